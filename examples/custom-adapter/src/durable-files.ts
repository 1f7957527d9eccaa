/**
 * The three file techniques the adapter's durability rests on, with nothing
 * Lethe-specific in them:
 *
 * - `writeFileAtomic`: write a temporary file, fsync it, rename it over the
 *   target, fsync the folder. A crash leaves the old file or the new one.
 * - `Journal`: JSON Lines appended and fsync'd one commit at a time. A crash
 *   during a write leaves at most one torn last line, which was never
 *   acknowledged and is cut off when the journal is opened again.
 * - `FolderLock`: one process at a time per folder (a `lock` file naming its
 *   process; a lock left by a process that no longer runs is taken over).
 *
 * POSIX semantics (Linux, macOS): Windows cannot fsync a folder, so that step
 * is skipped there.
 *
 * @module
 */
import { constants } from "node:fs"
import type { FileHandle } from "node:fs/promises"
import fs from "node:fs/promises"
import path from "node:path"

const hasCode = (error: unknown, code: string): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === code

/** Makes the folder's entries (a created, renamed or removed file) durable. */
export const syncFolder = async (folder: string): Promise<void> => {
  if (process.platform === "win32") return
  const handle = await fs.open(folder, constants.O_RDONLY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `file` by `text` atomically and durably.
 *
 * @example
 * ```ts
 * await writeFileAtomic("/data/lethe/snapshot.json", JSON.stringify(state))
 * ```
 */
export const writeFileAtomic = async (file: string, text: string): Promise<void> => {
  const temporary = `${file}.tmp`
  const handle = await fs.open(temporary, "w")
  try {
    await handle.writeFile(text, "utf8")
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(temporary, file)
  await syncFolder(path.dirname(file))
}

/** An append-only file of JSON values, one per line, each fsync'd before `append` resolves. */
export class Journal {
  readonly #handle: FileHandle

  private constructor(handle: FileHandle) {
    this.#handle = handle
  }

  /**
   * Opens (or creates) the journal and reads what it holds. A last line
   * without its newline is a write that never completed: it is cut off. A
   * complete line that is not JSON means the file was damaged: `open` throws
   * rather than guess.
   */
  static async open(file: string): Promise<{ readonly journal: Journal; readonly entries: Array<unknown> }> {
    const created = !(await fs.stat(file).then(
      () => true,
      (error: unknown) => (hasCode(error, "ENOENT") ? false : Promise.reject(error)),
    ))
    // "a+": reads from the start, writes always at the end (O_APPEND), even after a truncate.
    const handle = await fs.open(file, "a+")
    try {
      if (created) await syncFolder(path.dirname(file))
      const text = await handle.readFile("utf8")
      const complete = text.lastIndexOf("\n") + 1
      if (complete < text.length) {
        await handle.truncate(Buffer.byteLength(text.slice(0, complete)))
        await handle.sync()
      }
      const entries = text
        .slice(0, complete)
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line, i) => {
          try {
            return JSON.parse(line) as unknown
          } catch {
            throw new Error(`${file}: line ${i + 1} is damaged`)
          }
        })
      return { journal: new Journal(handle), entries }
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  /** Appends one value as a line and waits until it is on disk. */
  async append(value: unknown): Promise<void> {
    await this.#handle.appendFile(`${JSON.stringify(value)}\n`, "utf8")
    await this.#handle.sync()
  }

  /** Empties the journal (after its content went into a snapshot) and waits until that is on disk. */
  async clear(): Promise<void> {
    await this.#handle.truncate(0)
    await this.#handle.sync()
  }

  async close(): Promise<void> {
    await this.#handle.close()
  }
}

/** Whether a process with this id runs (and may hold a lock). */
const isRunning = (pid: number): boolean => {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, under another user.
    return hasCode(error, "EPERM")
  }
}

/** The lock of a folder, held by one open store at a time across processes on this machine. */
export class FolderLock {
  readonly #file: string

  private constructor(file: string) {
    this.#file = file
  }

  /** Takes the lock, or throws an `Error` naming the process that holds it. */
  static async acquire(folder: string): Promise<FolderLock> {
    const file = path.join(folder, "lock")
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.writeFile(file, `${process.pid}\n`, { flag: "wx" })
        await syncFolder(folder)
        return new FolderLock(file)
      } catch (error) {
        if (!hasCode(error, "EEXIST")) throw error
        const holder = Number.parseInt(await fs.readFile(file, "utf8").catch(() => ""), 10)
        if (isRunning(holder))
          throw new Error(
            `${folder} is open in ${holder === process.pid ? "this process" : `process ${holder}`}`,
          )
        // Left behind by a process that crashed: take it over.
        await fs.rm(file, { force: true })
      }
    }
    throw new Error(`${folder}: could not take the lock`)
  }

  async release(): Promise<void> {
    await fs.rm(this.#file, { force: true })
  }
}
