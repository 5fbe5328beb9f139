import assert from "node:assert/strict";
import { join } from "node:path";
import { gitRoom } from "../../src/process/git.ts";

Deno.test("gitRoom() reads the toplevel name and branch from .git", async () => {
  const root = await Deno.makeTempDir();
  try {
    const top = join(root, "my-repo");
    await Deno.mkdir(join(top, ".git"), { recursive: true });
    await Deno.mkdir(join(top, "src", "deep"), { recursive: true });
    await Deno.writeTextFile(join(top, ".git", "HEAD"), "ref: refs/heads/feature/login\n");
    assert.deepEqual(gitRoom(join(top, "src", "deep")), {
      repo: "my-repo",
      toplevel: top,
      branch: "feature/login",
    });
    await Deno.writeTextFile(
      join(top, ".git", "HEAD"),
      "0123456789abcdef0123456789abcdef01234567\n",
    );
    assert.deepEqual(gitRoom(top), { repo: "my-repo", toplevel: top, branch: "HEAD" });
    // a linked worktree: .git is a file pointing at the real git dir
    const wt = join(root, "wt-copy");
    await Deno.mkdir(join(root, "gitdirs", "wt"), { recursive: true });
    await Deno.mkdir(wt);
    await Deno.writeTextFile(join(wt, ".git"), "gitdir: ../gitdirs/wt\n");
    await Deno.writeTextFile(join(root, "gitdirs", "wt", "HEAD"), "ref: refs/heads/hotfix\n");
    assert.deepEqual(gitRoom(wt), { repo: "wt-copy", toplevel: wt, branch: "hotfix" });
    assert.equal(gitRoom(join(root, "gitdirs")), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
