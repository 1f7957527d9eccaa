/**
 * What ships works (issue 9): packs every publishable package, lints each
 * tarball (publint, attw), installs the tarballs into a fresh consumer project
 * outside the workspace, and there
 *
 * - runs an ESM program (`import`) and a CommonJS program (`require`) that
 *   register, forget and purge a member on the memory, SQLite and PostgreSQL
 *   (PGlite) stores, and compares their output with the expected lines;
 * - type-checks a TypeScript consumer as an ES module (.mts) and as a
 *   CommonJS module (.cts) under `module: nodenext`, and every .d.ts and
 *   .d.cts the tarballs ship with `skipLibCheck: false`;
 * - runs the README's example (the block after `<!-- pack-check: readme -->`)
 *   and compares what it prints with its `console.log(...) // output` comments;
 * - runs the adapter conformance suite of `@lethe/testkit` on the packed memory store;
 * - runs the `lethe` binary: `lethe audit` on the database the ESM program wrote.
 *
 * Usage: `npm run pack:check [-- --no-build] [-- --keep]`. `--no-build` skips
 * `npm run build` (CI has just built); `--keep` leaves the temporary folder.
 * Exit code 0 when everything holds, 1 otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const templates = path.join(import.meta.dirname, "pack-check")
const args = new Set(process.argv.slice(2))
const started = Date.now()

const say = (line: string) => process.stdout.write(`${line}\n`)
const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`

class CheckFailed extends Error {}

/** Commands started in the background and still running: stopped if the check fails. */
const running = new Set<ChildProcess>()

interface RunOptions {
  readonly cwd: string
  /** Print the output as it comes (long steps) instead of only on failure. */
  readonly stream?: boolean
  readonly env?: NodeJS.ProcessEnv
}

/**
 * The environment of a fresh shell: without the `npm_*` variables `npm run`
 * sets, so npm in the consumer project does not take the workspace for its
 * project (`npm_config_local_prefix`).
 */
const cleanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("npm_") && name !== "INIT_CWD") env[name] = value
  return { ...env, ...extra }
}

const describe = (command: string, commandArgs: ReadonlyArray<string>, cwd: string) =>
  `$ ${[command, ...commandArgs].join(" ")}${cwd === root ? "" : `   (in ${cwd})`}`

/** Runs a command and returns its stdout; throws `CheckFailed`, with its output, when it fails. */
const run = (command: string, commandArgs: ReadonlyArray<string>, options: RunOptions): string => {
  say(describe(command, commandArgs, options.cwd))
  const result = spawnSync(command, commandArgs, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    stdio: options.stream ? "inherit" : "pipe",
    maxBuffer: 64 * 1024 * 1024,
  })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
  if (result.error) throw new CheckFailed(`${command} could not run: ${result.error.message}`)
  if (result.status !== 0) {
    if (!options.stream) process.stdout.write(output)
    throw new CheckFailed(`${command} ${commandArgs.join(" ")} exited with ${result.status ?? result.signal}`)
  }
  return result.stdout ?? ""
}

/**
 * Starts a command in the background, its output into `log`; the promise
 * settles when it ends, rejecting with `CheckFailed` (and the log's tail) on
 * a non-zero exit.
 */
const start = (
  command: string,
  commandArgs: ReadonlyArray<string>,
  options: RunOptions & { readonly log: string },
): Promise<void> => {
  say(`${describe(command, commandArgs, options.cwd)}   (in the background, output in ${options.log})`)
  const log = fs.openSync(options.log, "w")
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    stdio: ["ignore", log, log],
  })
  running.add(child)
  return new Promise((resolve, reject) => {
    child.on("error", (error) => reject(new CheckFailed(`${command} could not run: ${error.message}`)))
    child.on("close", (code, signal) => {
      running.delete(child)
      fs.closeSync(log)
      if (code === 0) return resolve()
      process.stdout.write(fs.readFileSync(options.log, "utf8").split("\n").slice(-40).join("\n"))
      reject(new CheckFailed(`${command} ${commandArgs.join(" ")} exited with ${code ?? signal}`))
    })
  })
}

/** Compares actual lines with expected ones; prints both on a difference. */
const expectLines = (what: string, actual: string, expected: ReadonlyArray<string>): void => {
  const lines = actual.trimEnd().split("\n")
  if (lines.length === expected.length && lines.every((line, i) => line === expected[i])) {
    for (const line of lines) say(`  ${line}`)
    return
  }
  say(`${what}: expected\n${expected.map((l) => `  ${l}`).join("\n")}\nbut got\n${actual}`)
  throw new CheckFailed(`${what} printed something else`)
}

interface Publishable {
  readonly name: string
  readonly version: string
  readonly dir: string
  readonly peerDependencies: Readonly<Record<string, string>>
}

/** Every package under packages/ that is not private. */
const publishablePackages = (): ReadonlyArray<Publishable> =>
  fs
    .readdirSync(path.join(root, "packages"))
    .map((name) => path.join(root, "packages", name))
    .filter((dir) => fs.existsSync(path.join(dir, "package.json")))
    .map((dir) => ({ dir, json: JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) }))
    .filter(({ json }) => json.private !== true)
    .map(({ dir, json }) => ({
      name: json.name,
      version: json.version,
      dir,
      peerDependencies: json.peerDependencies ?? {},
    }))

const rootDevDependency = (name: string): string => {
  const json = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
  const range = json.devDependencies?.[name]
  if (typeof range !== "string") throw new CheckFailed(`the root package.json has no devDependency ${name}`)
  return range
}

const bin = (name: string) => path.join(root, "node_modules", ".bin", name)

interface Packed {
  /** Each tarball's path, by package name. */
  readonly tarballs: ReadonlyMap<string, string>
  /** The files in each tarball, by package name. */
  readonly files: ReadonlyMap<string, ReadonlyArray<string>>
}

/** `npm pack` of every package into `into`, in one npm run. */
const packAll = (packages: ReadonlyArray<Publishable>, into: string): Packed => {
  const workspaces = packages.flatMap((pkg) => ["--workspace", path.relative(root, pkg.dir)])
  const output = run("npm", ["pack", "--json", "--pack-destination", into, ...workspaces], { cwd: root })
  const packed = JSON.parse(output.slice(output.indexOf("["))) as ReadonlyArray<{
    readonly name: string
    readonly filename: string
    readonly size: number
    readonly files: ReadonlyArray<{ readonly path: string }>
  }>
  for (const p of packed) say(`  ${p.filename}: ${p.files.length} files, ${(p.size / 1024).toFixed(0)} KiB`)
  const missing = packages.filter((pkg) => !packed.some((p) => p.name === pkg.name))
  if (missing.length > 0) throw new CheckFailed(`npm pack made no tarball for ${missing.map((p) => p.name)}`)
  return {
    tarballs: new Map(packed.map((p) => [p.name, path.join(into, p.filename)])),
    files: new Map(packed.map((p) => [p.name, p.files.map((f) => f.path)])),
  }
}

/** The README's example, and the output its `console.log(...) // output` comments promise. */
const readmeExample = (): { readonly code: string; readonly expected: ReadonlyArray<string> } => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  const marker = readme.indexOf("<!-- pack-check: readme -->")
  const match = marker < 0 ? null : /```ts\n([\s\S]*?)```/.exec(readme.slice(marker))
  if (match?.[1] === undefined)
    throw new CheckFailed("README.md has no ```ts block after <!-- pack-check: readme -->")
  const expected = match[1]
    .split("\n")
    .filter((line) => line.includes("console.log("))
    .map((line) => /\/\/ (.*)$/.exec(line)?.[1]?.trim() ?? "")
  return { code: match[1], expected }
}

const expectedScenario = (format: "esm" | "cjs"): ReadonlyArray<string> => {
  const file = format === "esm" ? "index.js" : "index.cjs"
  const stores = ["memory", "sqlite", "postgres (PGlite)"]
  return [
    ...["@lethe/core", "@lethe/store-memory", "@lethe/store-sqlite", "@lethe/store-postgres"].map(
      (name) => `${format} ${name} -> dist/${file}`,
    ),
    ...Object.entries({
      spi: ["checkPageLimit", "ConcurrencyConflict"],
      audit: ["auditLog", "verifyReceipt"],
      domain: ["decide", "InvalidCommand"],
    }).map(
      ([entry, [name, common]]) =>
        `${format} @lethe/core/${entry} -> dist/${file.replace("index", entry)}: function ${name}` +
        (format === "esm" ? `, one copy of ${common}: true` : ""),
    ),
    ...stores.map(
      (store) =>
        `${format} ${store}: active -> forgotten -> purged; findByEmail after forget: nobody; ` +
        "recordActivity after forget: MemberErased; purged by runRetention: 1; erasure receipt verified: true",
    ),
  ]
}

const compilerOptions = {
  target: "ES2022",
  lib: ["ES2023"],
  module: "nodenext",
  moduleResolution: "nodenext",
  types: ["node"],
  strict: true,
  noEmit: true,
}

/**
 * The consumer's code: ESM (.mts) and CommonJS (.cts). `skipLibCheck`, as
 * most projects have it: PGlite's own .d.ts need DOM and Emscripten types.
 */
const consumerTsconfig = {
  compilerOptions: { ...compilerOptions, skipLibCheck: true },
  files: ["types.mts", "types.cts", "readme.mts"],
}

/** Every .d.ts and .d.cts the tarballs ship, checked in full (`skipLibCheck: false`). */
const declarationsTsconfig = (
  packages: ReadonlyArray<Publishable>,
  files: ReadonlyMap<string, ReadonlyArray<string>>,
) => ({
  compilerOptions: { ...compilerOptions, skipLibCheck: false },
  files: packages.flatMap((pkg) =>
    (files.get(pkg.name) ?? [])
      .filter((file) => /\.d\.c?ts$/.test(file))
      .map((file) => `node_modules/${pkg.name}/${file}`),
  ),
})

const main = async (): Promise<void> => {
  const packages = publishablePackages()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-pack-check-"))
  if (!path.relative(root, tmp).startsWith(".."))
    throw new CheckFailed(`the temporary folder ${tmp} is inside the workspace`)
  const tarballs = path.join(tmp, "tarballs")
  const consumer = path.join(tmp, "consumer")
  fs.mkdirSync(tarballs)
  fs.mkdirSync(consumer)
  let passed = false
  try {
    let step = Date.now()
    if (!args.has("--no-build")) {
      say("== build")
      run("npm", ["run", "build"], { cwd: root, stream: true, env: process.env })
      say(`   (${elapsed(step)})`)
    }

    say(`== pack (${packages.map((p) => p.name).join(", ")}) into ${tarballs}`)
    step = Date.now()
    const packed = packAll(packages, tarballs)
    say(`   (${elapsed(step)})`)

    say(`== a consumer project in ${consumer}`)
    step = Date.now()
    const tarballSpec = (name: string) => `file:${path.relative(consumer, packed.tarballs.get(name) ?? "")}`
    const postgres = packages.find((p) => p.name === "@lethe/store-postgres")
    const pgliteRange = postgres?.peerDependencies["@electric-sql/pglite"]
    if (pgliteRange === undefined)
      throw new CheckFailed("@lethe/store-postgres has no @electric-sql/pglite peer")
    const manifest = {
      name: "lethe-pack-check-consumer",
      private: true,
      version: "0.0.0",
      description: "A project that installs Lethe from its tarballs, as a user would from the registry.",
      dependencies: {
        ...Object.fromEntries(packages.map((p) => [p.name, tarballSpec(p.name)])),
        "@electric-sql/pglite": pgliteRange,
      },
      devDependencies: {
        "@types/node": rootDevDependency("@types/node"),
        "fast-check": rootDevDependency("fast-check"),
        tsx: rootDevDependency("tsx"),
        typescript: rootDevDependency("typescript"),
        vitest: rootDevDependency("vitest"),
      },
      // The packages depend on each other by version: take those from the tarballs too, never the registry.
      overrides: Object.fromEntries(packages.map((p) => [p.name, `$${p.name}`])),
      allowScripts: { "better-sqlite3": true },
    }
    const writeJson = (file: string, value: unknown) =>
      fs.writeFileSync(path.join(consumer, file), `${JSON.stringify(value, null, 2)}\n`)
    writeJson("package.json", manifest)
    for (const file of ["scenario.cjs", "esm.mjs", "cjs.cjs"])
      fs.copyFileSync(path.join(templates, file), path.join(consumer, file))
    fs.copyFileSync(path.join(templates, "types.ts"), path.join(consumer, "types.mts"))
    fs.copyFileSync(path.join(templates, "types.ts"), path.join(consumer, "types.cts"))
    fs.copyFileSync(path.join(templates, "conformance.test.mjs"), path.join(consumer, "conformance.test.mjs"))
    const readme = readmeExample()
    fs.writeFileSync(path.join(consumer, "readme.mts"), readme.code)
    writeJson("tsconfig.json", consumerTsconfig)
    writeJson("tsconfig.declarations.json", declarationsTsconfig(packages, packed.files))
    // better-sqlite3 builds from source here (about two minutes): in the
    // background, with every core (JOBS), while the tarballs are linted.
    const installed = start("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: consumer,
      env: cleanEnv({ JOBS: "max" }),
      log: path.join(tmp, "npm-install.log"),
    })
    installed.catch(() => undefined) // awaited below; a failure must not go unhandled meanwhile

    say("== publint and attw on each tarball")
    const lintStep = Date.now()
    for (const [name, tarball] of packed.tarballs) {
      const lint = run(bin("publint"), ["run", "--strict", tarball], { cwd: root })
      const verdict = lint.includes("All good!")
        ? "all good"
        : lint.slice(lint.indexOf("Linting...") + 10).trim()
      say(`  ${name} publint: ${verdict}`)
      // Node >= 20.19 (engines) resolves subpath exports; node10 resolution, which cannot, is not checked.
      const types = run(
        bin("attw"),
        ["--format", "table-flipped", "--no-emoji", "--profile", "node16", tarball],
        {
          cwd: root,
        },
      )
      say(`  ${name} attw: ${/No problems found/.test(types) ? "no problems found" : types}`)
    }
    say(`   (${elapsed(lintStep)})`)

    say("== npm install in the consumer project")
    await installed
    say(`   (${elapsed(step)} since it started: npm install, better-sqlite3 built from source)`)

    say("== run: ESM (import) and CommonJS (require)")
    step = Date.now()
    expectLines("esm.mjs", run("node", ["esm.mjs"], { cwd: consumer }), expectedScenario("esm"))
    expectLines("cjs.cjs", run("node", ["cjs.cjs"], { cwd: consumer }), expectedScenario("cjs"))
    say(`   (${elapsed(step)})`)

    say("== types: tsc --noEmit, module nodenext, as ESM (types.mts, readme.mts) and CommonJS (types.cts)")
    step = Date.now()
    const tsc = path.join(consumer, "node_modules", ".bin", "tsc")
    run(tsc, ["-p", "tsconfig.json"], { cwd: consumer })
    say("  the consumer's code type-checks against the import and the require types")
    run(tsc, ["-p", "tsconfig.declarations.json"], { cwd: consumer })
    say("  every shipped .d.ts and .d.cts type-checks (skipLibCheck: false)")
    say(`   (${elapsed(step)})`)

    say("== README example (readme.mts)")
    step = Date.now()
    const secret = { LETHE_SECRET: "pack-check: a secret of at least 32 bytes" }
    const example = run(path.join(consumer, "node_modules", ".bin", "tsx"), ["readme.mts"], {
      cwd: consumer,
      env: cleanEnv(secret),
    })
    expectLines("readme.mts", example, readme.expected)
    say(`   (${elapsed(step)})`)

    say("== @lethe/testkit: the conformance suite on the packed memory store (vitest)")
    step = Date.now()
    const vitest = run(
      path.join(consumer, "node_modules", ".bin", "vitest"),
      ["run", "conformance.test.mjs"],
      {
        cwd: consumer,
        env: cleanEnv({ CI: "true", NO_COLOR: "1" }),
      },
    )
    const summary = vitest.split("\n").filter((line) => /^\s*(Test Files|Tests)\s/.test(line))
    for (const line of summary) say(`  ${line.trim()}`)
    say(`   (${elapsed(step)})`)

    say("== the lethe binary: lethe --version, lethe audit esm.db")
    step = Date.now()
    const lethe = path.join(consumer, "node_modules", ".bin", "lethe")
    expectLines("lethe --version", run(lethe, ["--version"], { cwd: consumer }), ["0.1.0"])
    const audit = run(lethe, ["audit", "esm.db"], { cwd: consumer })
    if (!audit.includes("Result: clean")) {
      say(audit)
      throw new CheckFailed("lethe audit esm.db did not report a clean log")
    }
    say("  lethe audit esm.db: Result: clean (exit code 0)")
    say(`   (${elapsed(step)})`)
    passed = true
  } finally {
    if (args.has("--keep") || !passed) say(`(kept ${tmp})`)
    else fs.rmSync(tmp, { recursive: true, force: true })
  }
  say(`pack check passed in ${elapsed(started)}`)
}

main().catch((error: unknown) => {
  for (const child of running) child.kill()
  process.stderr.write(`pack check failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
