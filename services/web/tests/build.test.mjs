import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { build, sha256 } from "../build.mjs";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(WEB, "src");
const HASHED = /^(app|style)\.([0-9a-f]{8})\.(js|css)$/;

let tmp;
before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "web-build-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const readJson = async (file) => JSON.parse(await readFile(file, "utf8"));

describe("build", () => {
  test("gives CSS and JS assets content-hashed names", async () => {
    const out = path.join(tmp, "hashed");
    const manifest = await build({ outDir: out });
    const files = (await readdir(out)).sort();
    const appJs = await readFile(path.join(SRC, "app.js"));
    const expectedApp = `app.${sha256(appJs).slice(0, 8)}.js`;
    assert.equal(manifest.assets["app.js"], expectedApp);
    assert.match(manifest.assets["style.css"], HASHED);
    assert.deepEqual(files, [
      expectedApp,
      "config.js",
      "index.html",
      "manifest.json",
      manifest.assets["style.css"],
    ].sort());
    assert.deepEqual(await readFile(path.join(out, expectedApp)), appJs);
  });

  test("rewrites references in index.html and keeps config.js unhashed", async () => {
    const out = path.join(tmp, "html");
    const { assets } = await build({ outDir: out });
    const html = await readFile(path.join(out, "index.html"), "utf8");
    assert.ok(html.includes(`<script src="${assets["app.js"]}" defer></script>`));
    assert.ok(html.includes(`<link rel="stylesheet" href="${assets["style.css"]}">`));
    assert.ok(html.includes('<script src="config.js"></script>'));
    assert.ok(!html.includes('src="app.js"'));
    assert.ok(!html.includes('href="style.css"'));
  });

  test("writes a manifest describing every output file", async () => {
    const out = path.join(tmp, "manifest");
    await build({ outDir: out });
    const manifest = await readJson(path.join(out, "manifest.json"));
    assert.deepEqual(Object.keys(manifest.assets), ["app.js", "style.css"]);
    for (const [name, info] of Object.entries(manifest.files)) {
      const data = await readFile(path.join(out, name));
      assert.equal(info.sha256, sha256(data), name);
      assert.equal(info.size, data.length, name);
      assert.equal(info.immutable, HASHED.test(name), name);
    }
  });

  test("is deterministic", async () => {
    const one = path.join(tmp, "one");
    const two = path.join(tmp, "two");
    await build({ outDir: one });
    await build({ outDir: two });
    for (const name of await readdir(one)) {
      assert.deepEqual(await readFile(path.join(one, name)), await readFile(path.join(two, name)));
    }
  });

  test("a content change changes the hash; an unchanged file keeps its name", async () => {
    const src = path.join(tmp, "src-copy");
    await cp(SRC, src, { recursive: true });
    const before = await build({ srcDir: src, outDir: path.join(tmp, "before") });
    await writeFile(path.join(src, "app.js"), "console.log('changed');\n", { flag: "a" });
    const afterChange = await build({ srcDir: src, outDir: path.join(tmp, "after") });
    assert.notEqual(afterChange.assets["app.js"], before.assets["app.js"]);
    assert.match(afterChange.assets["app.js"], HASHED);
    assert.equal(afterChange.assets["style.css"], before.assets["style.css"]);
    const html = await readFile(path.join(tmp, "after", "index.html"), "utf8");
    assert.ok(html.includes(afterChange.assets["app.js"]));
  });

  test("rebuilding removes stale outputs", async () => {
    const src = path.join(tmp, "src-stale");
    const out = path.join(tmp, "stale");
    await cp(SRC, src, { recursive: true });
    const first = await build({ srcDir: src, outDir: out });
    await writeFile(path.join(src, "style.css"), "body { margin: 0; }\n");
    await build({ srcDir: src, outDir: out });
    const files = await readdir(out);
    assert.ok(!files.includes(first.assets["style.css"]));
  });

  test("refuses to build over its sources", async () => {
    await assert.rejects(build({ srcDir: SRC, outDir: WEB }), /refusing to build/);
  });
});

describe("command line", () => {
  const run = promisify(execFile);

  test("node build.mjs OUT_DIR builds into OUT_DIR", async () => {
    const out = path.join(tmp, "cli");
    const { stdout } = await run(process.execPath, ["build.mjs", out], { cwd: WEB });
    assert.match(stdout, /built 4 files into /);
    const manifest = await readJson(path.join(out, "manifest.json"));
    assert.match(manifest.assets["app.js"], HASHED);
  });

  test("an unknown option fails with a message", async () => {
    await assert.rejects(run(process.execPath, ["build.mjs", "--nope"], { cwd: WEB }), (err) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /unknown option --nope/);
      return true;
    });
  });
});
