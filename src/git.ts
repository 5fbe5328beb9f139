/**
 * Room identity from git, read straight from `.git` (no subprocess, so it can
 * never hang): the toplevel directory's name and the current branch.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

/** What git says about a working directory. */
export interface GitRoom {
  /** Basename of the working tree's top directory. */
  repo: string;
  /** Absolute path of the working tree's top directory. */
  toplevel: string;
  /** Current branch, or `HEAD` when detached. */
  branch: string;
}

/**
 * Finds the git working tree containing `cwd` and reads its branch.
 *
 * @param cwd the directory to start from
 * @returns the room parts, or `undefined` outside a git working tree
 */
export function gitRoom(cwd: string): GitRoom | undefined {
  let dir = resolve(cwd);
  for (let depth = 0; depth < 64; depth++) {
    const dotGit = join(dir, ".git");
    const gitDir = resolveGitDir(dotGit);
    if (gitDir !== undefined) {
      return { repo: basename(dir) || "root", toplevel: dir, branch: readBranch(gitDir) };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function resolveGitDir(dotGit: string): string | undefined {
  try {
    const info = Deno.statSync(dotGit);
    if (info.isDirectory) return dotGit;
    if (!info.isFile) return undefined;
    const text = Deno.readTextFileSync(dotGit);
    const match = text.match(/^gitdir:\s*(.+?)\s*$/m);
    if (!match) return undefined;
    return isAbsolute(match[1]!) ? match[1]! : resolve(dirname(dotGit), match[1]!);
  } catch {
    return undefined;
  }
}

function readBranch(gitDir: string): string {
  try {
    const head = Deno.readTextFileSync(join(gitDir, "HEAD")).trim();
    const ref = head.match(/^ref:\s*refs\/heads\/(.+)$/);
    if (ref) return ref[1]!;
    return head === "" ? "main" : "HEAD";
  } catch {
    return "main";
  }
}
