/**
 * What ships works (issue 9): packs every publishable package, lints each
 * tarball (publint, attw), checks what each holds (the root's MIT LICENSE, a
 * README.md, `repository`/`homepage`/`bugs`/`keywords`, and `effect` as a
 * peer dependency of every library whose shipped types import it), installs
 * the tarballs into a fresh consumer project outside the workspace, and there
 *
 * - runs an ESM program (`import`) and a CommonJS program (`require`) that
 *   register, forget and purge a member on the memory, SQLite and PostgreSQL
 *   (PGlite) stores, and compares their output with the expected lines;
 * - type-checks a TypeScript consumer as an ES module (.mts) and as a
 *   CommonJS module (.cts) under `module: nodenext`, each package README's
 *   example (the block after `<!-- pack-check: types -->`), and every .d.ts
 *   and .d.cts the tarballs ship with `skipLibCheck: false`;
 * - checks one copy of `effect` is installed, which every package shares;
 * - runs the README's example (the block after `<!-- pack-check: readme -->`)
 *   and compares what it prints with its `console.log(...) // output` comments;
 * - runs the adapter conformance suite of `@lethe/testkit` on the packed memory store;
 * - runs the `lethe` binary: `lethe audit` on the database the ESM program
 *   wrote, and `lethe export-log` of it.
 *
 * Then, in a second fresh project, it installs the CLI as an auditor does,
 * as the README says (the tarballs of @lethe/cli, @lethe/core and
 * @lethe/store-postgres, no overrides), without @lethe/store-sqlite and so
 * without building better-sqlite3, and there `lethe audit` checks the log file
 * exported above and a PostgreSQL database (a schema `lethe import` fills, at
 * `LETHE_PG_URL`; skipped, said so, when it is unset), and a SQLite file stops
 * `lethe` with the one-line hint to install @lethe/store-sqlite (exit code 2).
 *
 * Usage: `npm run pack:check [-- --no-build] [-- --keep]`. `--no-build` skips
 * `npm run build` (CI has just built); `--keep` leaves the temporary folder.
 * Exit code 0 when everything holds, 1 otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
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

/** A command line fit to print: a URL's password (LETHE_PG_URL's) is masked. */
const describe = (command: string, commandArgs: ReadonlyArray<string>, cwd: string) =>
  `$ ${[command, ...commandArgs].join(" ").replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, "$1***@")}${cwd === root ? "" : `   (in ${cwd})`}`

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

/** Runs a command that must fail; throws `CheckFailed` when it exits with 0. */
const runFailing = (
  command: string,
  commandArgs: ReadonlyArray<string>,
  options: RunOptions,
): { readonly status: number | null; readonly stdout: string; readonly stderr: string } => {
  say(describe(command, commandArgs, options.cwd))
  const result = spawnSync(command, commandArgs, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw new CheckFailed(`${command} could not run: ${result.error.message}`)
  if (result.status === 0) {
    process.stdout.write(`${result.stdout}${result.stderr}`)
    throw new CheckFailed(`${command} ${commandArgs.join(" ")} exited with 0, where it must fail`)
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
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
  /** The rest of its package.json, for the checks of its metadata. */
  readonly json: Readonly<Record<string, unknown>>
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
      json,
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

const repositoryUrl = "git+https://github.com/lethe-gdpr/lethe.git"

/**
 * What each tarball holds besides the code: the root's MIT LICENSE (the same
 * bytes), a README.md of its own, and the metadata a registry page shows.
 */
const checkContents = (packages: ReadonlyArray<Publishable>, packed: Packed): void => {
  const license = fs.readFileSync(path.join(root, "LICENSE"), "utf8")
  if (!license.startsWith("MIT License\n")) throw new CheckFailed("the root LICENSE is not the MIT license")
  for (const pkg of packages) {
    const files = packed.files.get(pkg.name) ?? []
    const problems = ["LICENSE", "README.md"].filter((file) => !files.includes(file)).map((f) => `no ${f}`)
    if (files.includes("LICENSE") && fs.readFileSync(path.join(pkg.dir, "LICENSE"), "utf8") !== license)
      problems.push("a LICENSE other than the root's")
    const folder = path.relative(root, pkg.dir).split(path.sep).join("/")
    const repository = pkg.json.repository as Readonly<Record<string, unknown>> | undefined
    if (repository?.type !== "git" || repository.url !== repositoryUrl || repository.directory !== folder)
      problems.push(`no repository { type: "git", url: "${repositoryUrl}", directory: "${folder}" }`)
    for (const field of ["homepage", "bugs"]) if (pkg.json[field] === undefined) problems.push(`no ${field}`)
    if (!Array.isArray(pkg.json.keywords) || pkg.json.keywords.length === 0) problems.push("no keywords")
    if (pkg.json.license !== "MIT") problems.push(`license ${String(pkg.json.license)}, not MIT`)
    if (problems.length > 0) throw new CheckFailed(`${pkg.name}: ${problems.join("; ")}`)
  }
  say("  each tarball holds the root's LICENSE (MIT), a README.md, repository, homepage, bugs and keywords")
}

/** Whether a declaration file imports `effect` or one of its modules. */
const importsEffect = (declarations: string): boolean =>
  /\bfrom\s*['"]effect(\/[^'"]*)?['"]|\bimport\(\s*['"]effect(\/[^'"]*)?['"]\s*\)/.test(declarations)

/**
 * `effect` is a peer dependency of each library whose shipped types import
 * it, as Effect libraries do: the application installs one copy of Effect,
 * which they share (a second copy's `Schema` or `Effect` would not be the
 * application's). An application (a package with `bin`) depends on it itself.
 */
const checkEffectPeer = (packages: ReadonlyArray<Publishable>, packed: Packed): void => {
  const roles: Array<string> = []
  for (const pkg of packages) {
    const declarations = (packed.files.get(pkg.name) ?? []).filter((file) => /\.d\.c?ts$/.test(file))
    if (!declarations.some((file) => importsEffect(fs.readFileSync(path.join(pkg.dir, file), "utf8"))))
      continue
    const dependencies = (pkg.json.dependencies ?? {}) as Readonly<Record<string, string>>
    const peer = pkg.peerDependencies.effect
    if (pkg.json.bin !== undefined) {
      if (dependencies.effect === undefined)
        throw new CheckFailed(`${pkg.name}, an application whose types import effect, does not depend on it`)
      roles.push(`${pkg.name} (an application: a dependency, ${dependencies.effect})`)
    } else if (peer === undefined || dependencies.effect !== undefined)
      throw new CheckFailed(
        `${pkg.name}: its types import effect, which must be a peer dependency, not a dependency`,
      )
    else roles.push(`${pkg.name} (a peer, ${peer})`)
  }
  say(`  effect, imported by the types of ${roles.join(", ")}`)
}

/** Where a package called `name` is installed in `project`'s node_modules, at any depth. */
const installedCopies = (project: string, name: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const visit = (modules: string): void => {
    if (!fs.existsSync(modules)) return
    for (const entry of fs.readdirSync(modules).filter((e) => !e.startsWith("."))) {
      const children = entry.startsWith("@")
        ? fs.readdirSync(path.join(modules, entry)).map((child) => `${entry}/${child}`)
        : [entry]
      for (const child of children) {
        if (child === name) found.push(path.relative(project, path.join(modules, child)))
        visit(path.join(modules, child, "node_modules"))
      }
    }
  }
  visit(path.join(project, "node_modules"))
  return found
}

const expectOneCopy = (project: string, name: string): void => {
  const copies = installedCopies(project, name)
  if (copies.length !== 1)
    throw new CheckFailed(`${copies.length} copies of ${name} in ${project}: ${copies}`)
  const { version } = JSON.parse(fs.readFileSync(path.join(project, copies[0] ?? "", "package.json"), "utf8"))
  say(`  one copy of ${name} (${version}), which every package shares`)
}

/** Each package README's example (the ```ts block after `<!-- pack-check: types -->`), by file name. */
const packageReadmeExamples = (packages: ReadonlyArray<Publishable>): ReadonlyMap<string, string> => {
  const examples = new Map<string, string>()
  for (const pkg of packages) {
    const readme = fs.readFileSync(path.join(pkg.dir, "README.md"), "utf8")
    const marker = readme.indexOf("<!-- pack-check: types -->")
    if (marker < 0) continue
    const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(marker))
    if (match?.[1] === undefined)
      throw new CheckFailed(`${pkg.name}'s README.md has no \`\`\`ts block after <!-- pack-check: types -->`)
    examples.set(`readme-${path.basename(pkg.dir)}.mts`, match[1])
  }
  return examples
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
const consumerTsconfig = (readmes: Iterable<string>) => ({
  compilerOptions: { ...compilerOptions, skipLibCheck: true },
  files: ["types.mts", "types.cts", "readme.mts", ...readmes],
})

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

const secret = "pack-check: a secret of at least 32 bytes"

/** `lethe audit` in `project`, which must report a clean log (exit code 0). */
const expectCleanAudit = (project: string, source: ReadonlyArray<string>, label: string): void => {
  const audit = run(path.join(project, "node_modules", ".bin", "lethe"), ["audit", ...source], {
    cwd: project,
  })
  if (!audit.includes("Result: clean")) {
    say(audit)
    throw new CheckFailed(`lethe audit ${label} did not report a clean log`)
  }
  say(`  lethe audit ${label}: Result: clean (exit code 0)`)
}

/**
 * In the auditor's project (the CLI without @lethe/store-sqlite): a log file
 * and a PostgreSQL database audit clean, and a SQLite file stops `lethe`
 * with the one-line hint to install @lethe/store-sqlite.
 */
const auditWithoutSqlite = (auditor: string, consumer: string): void => {
  for (const file of ["esm.jsonl", "esm.db"])
    fs.copyFileSync(path.join(consumer, file), path.join(auditor, file))
  expectCleanAudit(auditor, ["esm.jsonl"], "esm.jsonl (exported by the first project)")

  const lethe = path.join(auditor, "node_modules", ".bin", "lethe")
  const refused = runFailing(lethe, ["audit", "esm.db"], { cwd: auditor })
  const lines = refused.stderr.trimEnd().split("\n")
  if (
    refused.status !== 2 ||
    lines.length !== 1 ||
    !/^lethe: esm\.db: .*@lethe\/store-sqlite.* install it /.test(lines[0] ?? "")
  ) {
    say(`${refused.stdout}${refused.stderr}`)
    throw new CheckFailed(
      "lethe audit esm.db did not stop with the one-line hint to install @lethe/store-sqlite",
    )
  }
  say(`  lethe audit esm.db: exit code 2, ${lines[0]}`)

  const url = process.env.LETHE_PG_URL
  if (url === undefined || url === "") {
    say("  PostgreSQL: skipped, LETHE_PG_URL is not set (postgresql://user@host:5432/database)")
    return
  }
  const schema = `lethe_pack_check_${randomBytes(4).toString("hex")}`
  fs.writeFileSync(
    path.join(auditor, "contacts.csv"),
    "email,name,purpose,given_at\nada@example.org,Ada,newsletter,2026-01-05\ngrace@example.org,Grace,newsletter,2026-01-06\n",
  )
  try {
    const importArgs = ["import", "contacts.csv", "--db", url, "--schema", schema, "--tenant", "shop"]
    const imported = run(lethe, importArgs, { cwd: auditor, env: cleanEnv({ LETHE_SECRET: secret }) })
    say(`  ${imported.trim()}`)
    expectCleanAudit(auditor, [url, "--schema", schema], `<LETHE_PG_URL> --schema ${schema}`)
  } finally {
    // pg from where the CLI resolves it: the auditor's project names no dependency of its own.
    const drop = [
      'const pg = require("node:module").createRequire(require.resolve("@lethe/cli/package.json"))("pg")',
      "const [url, schema] = process.argv.slice(1)",
      "const client = new pg.Client({ connectionString: url })",
      "client.connect().then(() => client.query('DROP SCHEMA IF EXISTS \"' + schema + '\" CASCADE')).finally(() => client.end())",
    ].join("; ")
    run("node", ["-e", drop, url, schema], { cwd: auditor })
    say(`  schema ${schema} dropped`)
  }
}

const main = async (): Promise<void> => {
  const packages = publishablePackages()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lethe-pack-check-"))
  if (!path.relative(root, tmp).startsWith(".."))
    throw new CheckFailed(`the temporary folder ${tmp} is inside the workspace`)
  const tarballs = path.join(tmp, "tarballs")
  const consumer = path.join(tmp, "consumer")
  const auditor = path.join(tmp, "auditor")
  fs.mkdirSync(tarballs)
  fs.mkdirSync(consumer)
  fs.mkdirSync(auditor)
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

    say("== what each tarball holds: LICENSE, README.md, metadata; effect as a peer")
    checkContents(packages, packed)
    checkEffectPeer(packages, packed)

    say(`== a consumer project in ${consumer}`)
    step = Date.now()
    const tarballSpec = (name: string) => `file:${path.relative(consumer, packed.tarballs.get(name) ?? "")}`
    const postgres = packages.find((p) => p.name === "@lethe/store-postgres")
    const pgliteRange = postgres?.peerDependencies["@electric-sql/pglite"]
    if (pgliteRange === undefined)
      throw new CheckFailed("@lethe/store-postgres has no @electric-sql/pglite peer")
    // For its README's example: pg ships no types.
    const pgTypes = (postgres?.json.devDependencies as Readonly<Record<string, string>> | undefined)?.[
      "@types/pg"
    ]
    if (pgTypes === undefined) throw new CheckFailed("@lethe/store-postgres has no @types/pg dev dependency")
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
        "@types/pg": pgTypes,
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
    const packageReadmes = packageReadmeExamples(packages)
    for (const [file, code] of packageReadmes) fs.writeFileSync(path.join(consumer, file), code)
    writeJson("tsconfig.json", consumerTsconfig(packageReadmes.keys()))
    writeJson("tsconfig.declarations.json", declarationsTsconfig(packages, packed.files))
    // better-sqlite3 builds from source here (about two minutes): in the
    // background, with every core (JOBS), while the tarballs are linted.
    const installed = start("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: consumer,
      env: cleanEnv({ JOBS: "max" }),
      log: path.join(tmp, "npm-install.log"),
    })
    installed.catch(() => undefined) // awaited below; a failure must not go unhandled meanwhile

    // The auditor's project: the CLI as the README installs it, without @lethe/store-sqlite.
    fs.writeFileSync(
      path.join(auditor, "package.json"),
      `${JSON.stringify({ name: "lethe-pack-check-auditor", private: true, version: "0.0.0" }, null, 2)}\n`,
    )
    const auditorTarballs = ["@lethe/cli", "@lethe/core", "@lethe/store-postgres"].map((name) =>
      path.relative(auditor, packed.tarballs.get(name) ?? ""),
    )
    const auditorInstalled = start(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", ...auditorTarballs],
      { cwd: auditor, log: path.join(tmp, "npm-install-auditor.log") },
    )
    auditorInstalled.catch(() => undefined)

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
    expectOneCopy(consumer, "effect")

    say("== run: ESM (import) and CommonJS (require)")
    step = Date.now()
    expectLines("esm.mjs", run("node", ["esm.mjs"], { cwd: consumer }), expectedScenario("esm"))
    expectLines("cjs.cjs", run("node", ["cjs.cjs"], { cwd: consumer }), expectedScenario("cjs"))
    say(`   (${elapsed(step)})`)

    say(
      `== types: tsc --noEmit, module nodenext, as ESM (types.mts, readme.mts, ${[...packageReadmes.keys()].join(", ")}) and CommonJS (types.cts)`,
    )
    step = Date.now()
    const tsc = path.join(consumer, "node_modules", ".bin", "tsc")
    run(tsc, ["-p", "tsconfig.json"], { cwd: consumer })
    say(
      "  the consumer's code and each package README's example type-check against the import and the require types",
    )
    run(tsc, ["-p", "tsconfig.declarations.json"], { cwd: consumer })
    say("  every shipped .d.ts and .d.cts type-checks (skipLibCheck: false)")
    say(`   (${elapsed(step)})`)

    say("== README example (readme.mts)")
    step = Date.now()
    const example = run(path.join(consumer, "node_modules", ".bin", "tsx"), ["readme.mts"], {
      cwd: consumer,
      env: cleanEnv({ LETHE_SECRET: secret }),
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

    say("== the lethe binary: lethe --version, lethe audit esm.db, lethe export-log esm.db")
    step = Date.now()
    const lethe = path.join(consumer, "node_modules", ".bin", "lethe")
    expectLines("lethe --version", run(lethe, ["--version"], { cwd: consumer }), ["0.1.0"])
    const audit = run(lethe, ["audit", "esm.db"], { cwd: consumer })
    if (!audit.includes("Result: clean")) {
      say(audit)
      throw new CheckFailed("lethe audit esm.db did not report a clean log")
    }
    say("  lethe audit esm.db: Result: clean (exit code 0)")
    run(lethe, ["export-log", "esm.db", "--out", "esm.jsonl"], { cwd: consumer })
    say(`  lethe export-log esm.db: esm.jsonl, ${fs.statSync(path.join(consumer, "esm.jsonl")).size} bytes`)
    say(`   (${elapsed(step)})`)

    say(`== an auditor's project in ${auditor}: @lethe/cli, @lethe/core, @lethe/store-postgres, no SQLite`)
    step = Date.now()
    await auditorInstalled
    for (const absent of ["@lethe/store-sqlite", "better-sqlite3"]) {
      const copies = installedCopies(auditor, absent)
      if (copies.length > 0) throw new CheckFailed(`the auditor's project installed ${absent}: ${copies}`)
    }
    say("  installed without @lethe/store-sqlite and better-sqlite3: nothing native built")
    expectOneCopy(auditor, "effect")
    auditWithoutSqlite(auditor, consumer)
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
