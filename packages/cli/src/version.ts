/**
 * The CLI's version, which `lethe --version` prints and every audit report names (its chain of custody).
 *
 * @module
 */

/** The version `lethe --version` prints. */
export const version = "0.1.0"
