// The embedded store commits writes that arrive together as one: each write is still on disk when
// its promise resolves, reads see writes in the order they were made, and a burst costs one commit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Keyv from "keyv";
import { afterEach, describe, expect, it } from "vitest";
import { GroupCommitSqlite } from "../src/store/group-commit.ts";
import { openStore } from "../src/store/index.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "atelier-group-commit-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the embedded store's group commit", () => {
  it("has every write that resolved on disk when the store is opened again", async () => {
    const dataDir = tempDir();
    const first = await openStore({ dataDir });
    await Promise.all(Array.from({ length: 300 }, (_, n) => first.keyv.set(`job:${n}`, { n })));
    await Promise.all(Array.from({ length: 100 }, (_, n) => first.keyv.delete(`job:${n * 3}`)));
    await first.close();

    const again = await openStore({ dataDir });
    const found = await Promise.all(Array.from({ length: 300 }, (_, n) => again.keyv.get(`job:${n}`)));
    expect(found.filter((value) => value !== undefined)).toHaveLength(200);
    expect(found[1]).toEqual({ n: 1 });
    expect(found[3]).toBeUndefined();
    await again.close();
  });

  it("reads a key as the writes handed to it so far left it, committed or not", async () => {
    const adapter = new GroupCommitSqlite({ uri: `sqlite://${tempDir()}/store.sqlite` });
    const writes: Promise<unknown>[] = [adapter.set("k", "one")];
    expect(await adapter.get("k")).toBe("one");
    writes.push(adapter.delete("k"));
    expect(await adapter.get("k")).toBeUndefined();
    writes.push(adapter.set("k", "two"));
    expect(await adapter.get("k")).toBe("two");
    await Promise.all(writes);
    expect(await adapter.get("k")).toBe("two");
    expect(await adapter.delete("k")).toBe(true);
    expect(await adapter.delete("k")).toBe(false);
    await adapter.disconnect();
  });

  it("commits writes that arrive together in one statement, and reads them in one", async () => {
    const adapter = new GroupCommitSqlite({ uri: `sqlite://${tempDir()}/store.sqlite` });
    const keyv = new Keyv({ store: adapter });
    await keyv.get("warm-up");
    const statements: string[] = [];
    const query = adapter.query;
    adapter.query = (sql, ...parameters) => {
      statements.push(sql.split(" ")[0] ?? "");
      return query(sql, ...parameters);
    };
    await Promise.all(Array.from({ length: 100 }, (_, n) => keyv.set(`k${n}`, n)));
    await Promise.all(Array.from({ length: 100 }, (_, n) => keyv.get(`k${n}`)));
    expect(statements).toEqual(["INSERT", "SELECT"]);
    expect(await keyv.get("k42")).toBe(42);
    await keyv.disconnect();
  });
});
