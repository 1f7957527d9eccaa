/**
 * The keyring of the commands that write (`retention`, `import`): derived
 * from the application's secret in `LETHE_SECRET`, never from an argument,
 * so it stays out of shell history and process lists.
 *
 * @module
 */
import type { Keyring } from "@lethe/core"
import { keyringFromSecret, minimumSecretBytes } from "@lethe/core"
import { CliError } from "../errors.js"

/** The environment variable holding the application's secret. */
export const secretVariable = "LETHE_SECRET"

/** A keyring from `LETHE_SECRET`, or a usage error saying why it is needed. */
export const keyringFromEnvironment = (why: string): Keyring => {
  const secret = process.env[secretVariable]
  if (secret === undefined || secret === "")
    throw CliError.usage(`${why} needs the application's secret in ${secretVariable}`)
  try {
    return keyringFromSecret(secret)
  } catch {
    throw CliError.usage(`${secretVariable} must hold at least ${minimumSecretBytes} bytes`)
  }
}

/**
 * A keyring for runs that open no sealed value (a dry run): every call fails,
 * so a use would be reported, never silently served with a wrong key.
 */
export const unusedKeyring: Keyring = new Proxy({} as Keyring, {
  // Not a thenable, and no symbol: only the keyring's own methods fail.
  get: (_, name) =>
    name === "then" || typeof name === "symbol"
      ? undefined
      : () => Promise.reject(new Error(`no keyring for ${name}: set ${secretVariable}`)),
})

/**
 * A store's key check refused the keyring (`KeyringMismatch`): said as a usage
 * error in one line, naming the variable to fix. Anything else as it is.
 */
export const wrongSecret = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "KeyringMismatch"
    ? CliError.usage(
        `${secretVariable} is not the secret this store was written with (its key check does not open); nothing was written`,
      )
    : error
