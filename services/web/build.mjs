// Build the static site: copy src/ to the output directory (default dist/), give CSS and JS
// assets content-hashed names (app.<8 hex of sha256>.js), rewrite references to them in HTML
// files, and write manifest.json. Plain node, no dependencies; the output is deterministic.
//
//   node build.mjs [OUT_DIR] [--src SRC_DIR]
//
// config.js is runtime configuration (the API URL), meant to be replaced per deployment,
// so it keeps its name and is never cached as immutable.

import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HASHED_EXTENSIONS = new Set([".css", ".js"]);
const UNHASHED = new Set(["config.js"]);

export const sha256 = (data) => createHash("sha256").update(data).digest("hex");

export function hashedName(relPath, content) {
  const ext = path.posix.extname(relPath);
  return `${relPath.slice(0, -ext.length)}.${sha256(content).slice(0, 8)}${ext}`;
}

async function listFiles(dir, prefix = "") {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files = [];
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) files.push(rel);
  }
  return files;
}

function rewriteHtml(html, htmlPath, assets) {
  const base = path.posix.dirname(htmlPath);
  return html.replace(/\b(src|href)=(["'])([^"']*)\2/g, (match, attr, quote, url) => {
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) return match; // absolute URL
    const [, ref, suffix] = url.match(/^([^?#]*)(.*)$/);
    if (!ref) return match;
    const target = ref.startsWith("/")
      ? path.posix.normalize(ref.slice(1))
      : path.posix.normalize(path.posix.join(base, ref));
    const hashed = assets[target];
    if (!hashed) return match;
    const replaced = ref.startsWith("/")
      ? `/${hashed}`
      : path.posix.join(path.posix.dirname(ref), path.posix.basename(hashed));
    return `${attr}=${quote}${replaced}${suffix}${quote}`;
  });
}

export async function build({ srcDir = path.join(HERE, "src"), outDir = path.join(HERE, "dist") } = {}) {
  srcDir = path.resolve(srcDir);
  outDir = path.resolve(outDir);
  if (outDir === srcDir || srcDir.startsWith(outDir + path.sep) || outDir === path.parse(outDir).root) {
    throw new Error(`refusing to build into ${outDir}: it would delete the sources`);
  }
  const files = await listFiles(srcDir);
  const contents = new Map();
  for (const rel of files) contents.set(rel, await readFile(path.join(srcDir, rel)));

  const assets = {};
  for (const rel of files) {
    if (HASHED_EXTENSIONS.has(path.posix.extname(rel)) && !UNHASHED.has(rel)) {
      assets[rel] = hashedName(rel, contents.get(rel));
    }
  }

  await rm(outDir, { recursive: true, force: true });
  const written = {};
  for (const rel of files) {
    let data = contents.get(rel);
    if (rel.endsWith(".html")) data = Buffer.from(rewriteHtml(data.toString("utf8"), rel, assets));
    const outRel = assets[rel] ?? rel;
    await mkdir(path.dirname(path.join(outDir, outRel)), { recursive: true });
    await writeFile(path.join(outDir, outRel), data);
    written[outRel] = { sha256: sha256(data), size: data.length, immutable: rel in assets };
  }
  const sortedFiles = Object.fromEntries(Object.entries(written).sort(([a], [b]) => (a < b ? -1 : 1)));
  const manifest = { assets, files: sortedFiles };
  await writeFile(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--src") options.srcDir = argv[++i];
    else if (argv[i] === "-h" || argv[i] === "--help") options.help = true;
    else if (argv[i].startsWith("-")) throw new Error(`unknown option ${argv[i]}`);
    else if (options.outDir === undefined) options.outDir = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  return options;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (options.help) {
      console.log("usage: node build.mjs [OUT_DIR] [--src SRC_DIR]");
    } else {
      const outDir = options.outDir ?? path.join(HERE, "dist");
      const manifest = await build({ ...options, outDir });
      const count = Object.keys(manifest.files).length;
      console.log(`built ${count} files into ${path.relative(process.cwd(), outDir) || "."}`);
    }
  } catch (err) {
    console.error(`build.mjs: ${err.message}`);
    process.exitCode = 1;
  }
}
