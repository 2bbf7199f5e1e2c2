// Validates a Teams app manifest with the npm package @microsoft/app-manifest's
// own AppManifestUtils.validateAgainstSchema, offline.
//
//   node tests/manifest/validate_manifest.js PATH/manifest.json
//
// The schema named by the manifest's $schema is read from the package's files
// (build/json-schemas/...) and handed to validateAgainstSchema, so the package
// never falls back to fetching it; fetch is disabled as well. Prints
// {"schema": FILE, "errors": [...]} and exits 0 when the manifest is valid,
// 1 when it is not, 2 when it could not be checked.
"use strict";

const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");

function fail(message) {
  process.stdout.write(JSON.stringify({ error: message }) + "\n");
  process.exit(2);
}

globalThis.fetch = () => Promise.reject(new Error("network access is disabled in this check"));

async function main() {
  const file = process.argv[2];
  if (!file) fail("usage: validate_manifest.js MANIFEST");
  let pkg;
  try {
    pkg = require(require.resolve("@microsoft/app-manifest", { paths: [root] }));
  } catch (e) {
    fail(`cannot load @microsoft/app-manifest: ${e.message}`);
  }
  const { AppManifestUtils } = pkg;
  const text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  const manifest = JSON.parse(text);
  if (!manifest.$schema) fail("the manifest has no $schema");
  const suffix = AppManifestUtils.getLocalSchemaSuffix(manifest.$schema);
  if (!suffix) fail(`not a schema the package bundles: ${manifest.$schema}`);
  const packageDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json", { paths: [root] }));
  const schemaFile = path.join(packageDir, "build", suffix);
  if (!fs.existsSync(schemaFile)) fail(`the package has no ${suffix}`);
  const raw = fs.readFileSync(schemaFile, "utf8").replace(/^\uFEFF/, "");
  const schema = JSON.parse(raw.replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b"));
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  process.stdout.write(JSON.stringify({ schema: path.relative(root, schemaFile), errors }) + "\n");
  process.exit(errors.length ? 1 : 0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
