/**
 * `@lethe/core`: the pure member domain, the storage SPI, and the Lethe
 * application service with its Promise facade.
 *
 * @module
 */

export * from "./app/codec.js"
export * from "./app/directory-row.js"
export * from "./app/facade.js"
export * from "./app/inputs.js"
export * from "./app/lethe.js"
export * from "./app/receipt.js"
export * from "./audit/hash-chain.js"
export * from "./errors.js"
export * from "./member/commands.js"
export * from "./member/config.js"
export * from "./member/decide.js"
export * from "./member/events.js"
export * from "./member/guards.js"
export * from "./member/state.js"
export * from "./member/view.js"
export * from "./sealing/blind-index.js"
export * from "./sealing/keyring.js"
export * from "./sealing/seal.js"
export * from "./sealing/sealing-codec.js"
export * from "./spi/directory.js"
export * from "./spi/event-store.js"
export * from "./spi/key-store.js"
export * from "./spi/sealed-value.js"
export * from "./spi/store.js"
