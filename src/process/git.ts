/**
 * Room identity from git, read straight from `.git` (no subprocess, so it can
 * never hang): the toplevel directory's name and the current branch.
 *
 * @module
 */
import { childPath, isAbsolutePath, lastSegment, parentPath, resolvePath } from "./path.ts";

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
  let dir = isAbsolutePath(cwd) ? resolvePath(cwd) : resolvePath(Deno.cwd(), cwd);
  for (let depth = 0; depth < 64; depth++) {
    const dotGit = childPath(dir, ".git");
    const gitDir = resolveGitDir(dotGit);
    if (gitDir !== undefined) {
      return { repo: lastSegment(dir) || "root", toplevel: dir, branch: readBranch(gitDir) };
    }
    const parent = parentPath(dir);
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
    return resolvePath(parentPath(dotGit), match[1]!);
  } catch {
    return undefined;
  }
}

function readBranch(gitDir: string): string {
  try {
    const head = Deno.readTextFileSync(childPath(gitDir, "HEAD")).trim();
    const ref = head.match(/^ref:\s*refs\/heads\/(.+)$/);
    if (ref) return ref[1]!;
    return head === "" ? "main" : "HEAD";
  } catch {
    return "main";
  }
}
