import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CachedRepository,
  idList,
  KeyList,
  openStore,
  Repository,
  recordCache,
  type Store,
  sharedRepository,
} from "../src/store/index.ts";
import { KeyedSerializer } from "../src/store/serial.ts";
import { type RedisServer, redisTestsRun, startRedis } from "./support/redis.ts";

const noteSchema = z.object({ title: z.string(), stars: z.number().int() });

function storeContract(name: string, open: () => Promise<Store>) {
  describe(name, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it("keeps a record and reads it back validated", async () => {
      const notes = new Repository(store.keyv, "note", noteSchema);
      await notes.set("a", { title: "fox", stars: 3 });
      expect(await notes.get("a")).toEqual({ title: "fox", stars: 3 });
      expect(await notes.get("missing")).toBeUndefined();
      await notes.delete("a");
      expect(await notes.get("a")).toBeUndefined();
    });

    it("refuses a record that no longer matches its schema", async () => {
      await store.keyv.set("note:bad", { title: 42 });
      const notes = new Repository(store.keyv, "note", noteSchema);
      await expect(notes.get("bad")).rejects.toThrow(/note record bad is unreadable/);
    });

    it("keeps repositories with different prefixes apart", async () => {
      const notes = new Repository(store.keyv, "note", noteSchema);
      const drafts = new Repository(store.keyv, "draft", noteSchema);
      await notes.set("same", { title: "note", stars: 1 });
      await drafts.set("same", { title: "draft", stars: 2 });
      expect((await notes.get("same"))?.title).toBe("note");
      expect((await drafts.get("same"))?.title).toBe("draft");
    });

    it("changes a record by read-modify-write, and leaves a missing one missing", async () => {
      const notes = sharedRepository(store, "note", noteSchema);
      await notes.set("u", { title: "fox", stars: 1 });
      expect(await notes.update("u", (note) => note && { ...note, stars: note.stars + 1 })).toEqual({
        title: "fox",
        stars: 2,
      });
      expect(await notes.update("u", () => undefined)).toBeUndefined();
      expect(await new Repository(store.keyv, "note", noteSchema).get("u")).toEqual({
        title: "fox",
        stars: 2,
      });
      expect(await notes.update("nobody", (note) => note)).toBeUndefined();
      expect(await notes.get("nobody")).toBeUndefined();
      expect(await notes.update("new", (note) => note ?? { title: "created", stars: 0 })).toEqual({
        title: "created",
        stars: 0,
      });
      expect(await notes.get("new")).toEqual({ title: "created", stars: 0 });
    });

    it("changes a cached record in memory and in the store", async () => {
      const cache = recordCache(store, "cached", noteSchema);
      await cache.update("c", (note) => ({ title: "count", stars: (note?.stars ?? 0) + 1 }));
      expect(await cache.update("c", (note) => note && { ...note, stars: note.stars + 1 })).toEqual({
        title: "count",
        stars: 2,
      });
      await cache.flushed();
      expect(await new Repository(store.keyv, "cached", noteSchema).get("c")).toEqual({
        title: "count",
        stars: 2,
      });
    });

    it("keeps list order and loses no concurrent update", async () => {
      const list = new KeyList(store.keyv, `list-${name}`);
      await Promise.all(Array.from({ length: 50 }, (_, i) => list.add(`job${i}`)));
      await Promise.all([list.remove("job3"), list.remove("job7"), list.add("job0")]);
      const ids = await list.all();
      expect(ids).toHaveLength(48);
      expect(ids.slice(0, 4)).toEqual(["job0", "job1", "job2", "job4"]);
    });

    it("keeps only a list's newest ids when told to", async () => {
      const recent = idList(store, `recent-${name}`);
      // Zero-padded: ids added within one millisecond tie on Redis's score and sort by name.
      const ids = Array.from({ length: 25 }, (_, i) => `job${String(i).padStart(2, "0")}`);
      for (const id of ids) await recent.addKeepingLast(id, 20);
      expect(await recent.all()).toEqual(ids.slice(5));
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), "atelier-store-"));
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));

storeContract("embedded SQLite store", () => openStore({ dataDir: sqliteDir }));

describe.runIf(redisTestsRun)("with a redis-server", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  storeContract("Redis store", () => openStore({ dataDir: sqliteDir, redisUrl: redis.url }));

  describe("a record two processes change", () => {
    let first: Store;
    let second: Store;
    beforeAll(async () => {
      [first, second] = await Promise.all([
        openStore({ dataDir: sqliteDir, redisUrl: redis.url }),
        openStore({ dataDir: sqliteDir, redisUrl: redis.url }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([first?.close(), second?.close()]);
    });

    it("is changed from what the other process wrote, not from what this one saw last", async () => {
      const here = sharedRepository(first, "note", noteSchema);
      const there = sharedRepository(second, "note", noteSchema);
      await here.set("race", { title: "start", stars: 0 });
      await there.update("race", (note) => note && { ...note, title: `${note.title} there` });
      // `here` wrote the record last itself; the other process's change must still be in its result.
      const seen: string[] = [];
      const result = await here.update("race", (note) => {
        seen.push(note?.title ?? "none");
        return note && { ...note, stars: note.stars + 1 };
      });
      expect(result).toEqual({ title: "start there", stars: 1 });
      expect(seen).toEqual(["start", "start there"]);
      expect(await there.get("race")).toEqual({ title: "start there", stars: 1 });
    });

    it("is created once when both create it at once", async () => {
      const sides = [first, second].map((store) => ({
        notes: sharedRepository(store, "note", noteSchema),
        serial: new KeyedSerializer(),
      }));
      await Promise.all(
        Array.from({ length: 40 }, (_, index) => index % 2).map((side) => {
          const { notes, serial } = sides[side] as (typeof sides)[number];
          return serial.run("fresh", () =>
            notes.update("fresh", (note) => ({ title: "fresh", stars: (note?.stars ?? 0) + 1 })),
          );
        }),
      );
      expect((await sharedRepository(second, "note", noteSchema).get("fresh"))?.stars).toBe(40);
    });

    it("loses no update when both change it at once", async () => {
      const sides = [first, second].map((store) => ({
        notes: sharedRepository(store, "note", noteSchema),
        serial: new KeyedSerializer(),
      }));
      await sharedRepository(first, "note", noteSchema).set("count", { title: "count", stars: 0 });
      await Promise.all(
        Array.from({ length: 60 }, (_, index) => index % 2).map((side) => {
          const { notes, serial } = sides[side] as (typeof sides)[number];
          return serial.run("count", () =>
            notes.update("count", (note) => note && { ...note, stars: note.stars + 1 }),
          );
        }),
      );
      expect((await sharedRepository(second, "note", noteSchema).get("count"))?.stars).toBe(60);
    });

    it("is the record keyv reads and writes, time to live kept", async () => {
      const plain = new Repository(first.keyv, "note", noteSchema);
      const shared = sharedRepository(second, "note", noteSchema);
      await plain.set("legacy", { title: ":colon", stars: 1 }, 60_000);
      expect(await shared.update("legacy", (note) => note && { ...note, stars: 2 })).toEqual({
        title: ":colon",
        stars: 2,
      });
      expect(await plain.get("legacy")).toEqual({ title: ":colon", stars: 2 });
      const redisKey = first.redisKeyOf?.("note:legacy") ?? "";
      expect(await first.redis?.exists(redisKey)).toBe(1);
      expect(await first.redis?.pttl(redisKey)).toBeGreaterThan(50_000);
    });
  });
});

describe("embedded SQLite store across restarts", () => {
  it("finds records written before the store was closed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "atelier-restart-"));
    try {
      const first = await openStore({ dataDir });
      await new Repository(first.keyv, "note", noteSchema).set("kept", { title: "kept", stars: 5 });
      await new KeyList(first.keyv, "open").add("kept");
      await first.close();

      const second = await openStore({ dataDir });
      expect(await new Repository(second.keyv, "note", noteSchema).get("kept")).toEqual({
        title: "kept",
        stars: 5,
      });
      expect(await new KeyList(second.keyv, "open").all()).toEqual(["kept"]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("says clearly when Redis cannot be reached", async () => {
    await expect(
      openStore({ dataDir: sqliteDir, redisUrl: "redis://user:hunter2@127.0.0.1:1" }),
    ).rejects.toThrow(/^Cannot reach Redis at 127.0.0.1:1 \(ECONNREFUSED\): check REDIS_URL/);
  });
});

describe("cached repository", () => {
  it("answers reads from memory after the first and writes changes behind, in order", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "atelier-cache-"));
    try {
      const store = await openStore({ dataDir });
      const backing = new Repository(store.keyv, "note", noteSchema);
      const cached = new CachedRepository(backing);
      await backing.set("a", { title: "stored", stars: 1 });
      expect(await cached.get("a")).toEqual({ title: "stored", stars: 1 });
      await store.keyv.set("note:a", { title: "changed behind its back", stars: 2 });
      expect((await cached.get("a"))?.title).toBe("stored");

      cached.set("a", { title: "first", stars: 3 });
      cached.set("a", { title: "second", stars: 4 });
      cached.set("b", { title: "other", stars: 5 });
      expect((await cached.get("a"))?.title).toBe("second");
      await cached.flushed();
      expect(await backing.get("a")).toEqual({ title: "second", stars: 4 });
      expect(await backing.get("b")).toEqual({ title: "other", stars: 5 });
      cached.delete("b");
      await cached.flushed();
      expect(await backing.get("b")).toBeUndefined();
      await store.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
