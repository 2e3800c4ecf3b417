#!/usr/bin/env node
// Perplexity of a GGUF model measured by REAL llama.cpp (through the npm package
// node-llama-cpp, which ships prebuilt llama.cpp CPU libraries), cut and scored
// exactly like `lmpack eval`, so the two numbers can be compared:
//
//   documents (--doc-separator S): split the text on S, strip ASCII whitespace
//     around each piece, drop empty pieces, keep the first --max-docs; each
//     document is BOS + tokenize(doc) (llama.cpp's own tokenizer, no BOS added
//     by it), cut to --ctx tokens; the NLL of every token after BOS is summed.
//   windows (no separator): the whole text is tokenized once with BOS and cut
//     into consecutive windows of --ctx tokens whose first token is replaced by
//     BOS; every next token is scored, or with --score-second-half only targets
//     at positions [ctx/2 + 1, ctx) (llama-perplexity's convention).
//   perplexity = exp(total NLL / scored tokens).
//
// Prints one JSON object on stdout:
//   {"perplexity", "tokens", "sequences", "ctx", "nll_mean", "targets_hash",
//    "seconds", "llama_cpp": {...}}
// targets_hash is lmpack's hash_targets() (eval/perplexity.cpp) of the scored
// target ids, as stored in the header of an `lmpack eval --save-logits` file
// (bytes 32..39, little-endian), so a tokenization mismatch between lmpack and
// llama.cpp shows up directly. It is FNV-1a over 4 little-endian bytes per id,
// seeded with lmpack's constant 14695981039346656037 (kLmpackHashSeed below;
// keep the two equal).
//
// Install the package with scripts/install_llamacpp_check.sh; this script looks
// for node_modules in $LMPACK_LLAMACPP_DIR, then <repo>/build-llamacpp.
// llama.cpp's own log lines go to stderr (only warnings and errors unless
// --verbose). See tests/compat/README.md.
import fs from "node:fs";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const kUsage = `usage: llamacpp_ppl.mjs MODEL.gguf --text FILE [options]
  --ctx N               tokens per document cut / window (default: the model's context)
  --doc-separator S     document mode: split the text on S
  --max-docs N          document mode: the first N documents (0: all)
  --chunks N            window mode: at most N windows (0: all)
  --score-second-half   window mode: score only [ctx/2, ctx) like llama-perplexity
  --threads N           CPU threads (default: node-llama-cpp's choice)
  --kv-type T           KV cache type, e.g. F16 (llama.cpp's default) or F32
  --flash-attention     enable flash attention (default: off)
  --verbose             let llama.cpp log at info level (stderr)`;

function fail(where, problem) {
  process.stderr.write(`${where}: ${problem}\n`);
  process.exit(2);
}

function parse_args(argv) {
  const o = {model: null, text: null, ctx: 0, sep: "", max_docs: 0, chunks: 0, second_half: false,
             threads: 0, kv_type: null, flash: false, verbose: false};
  const int_opt = (name, v) => {
    if (v === undefined || !/^-?\d+$/.test(v)) fail(name, `needs an integer, got '${v}'`);
    const n = Number(v);
    if (n < 0) fail(name, `must be >= 0, got ${n}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) fail(a, "needs a value"); return argv[++i]; };
    if (a === "--text") o.text = val();
    else if (a === "--ctx") o.ctx = int_opt(a, val());
    else if (a === "--doc-separator") o.sep = val();
    else if (a === "--max-docs") o.max_docs = int_opt(a, val());
    else if (a === "--chunks") o.chunks = int_opt(a, val());
    else if (a === "--score-second-half") o.second_half = true;
    else if (a === "--threads") o.threads = int_opt(a, val());
    else if (a === "--kv-type") o.kv_type = val().toUpperCase();
    else if (a === "--flash-attention") o.flash = true;
    else if (a === "--verbose") o.verbose = true;
    else if (a === "-h" || a === "--help") { process.stdout.write(kUsage + "\n"); process.exit(0); }
    else if (a.startsWith("--")) fail(a, "unknown option\n" + kUsage);
    else if (o.model === null) o.model = a;
    else fail(a, "unexpected extra argument");
  }
  if (o.model === null) fail("MODEL", "missing\n" + kUsage);
  if (o.text === null) fail("--text", "missing");
  if (!fs.existsSync(o.model)) fail(o.model, "no such file");
  if (!fs.existsSync(o.text)) fail(o.text, "no such file");
  if (o.ctx !== 0 && o.ctx < 2) fail("--ctx", `must be at least 2, got ${o.ctx}`);
  if (o.sep === "" && o.max_docs) fail("--max-docs", "only applies with --doc-separator");
  if (o.sep !== "" && (o.chunks || o.second_half))
    fail(o.chunks ? "--chunks" : "--score-second-half", "only applies to window mode (without --doc-separator)");
  return o;
}

// node-llama-cpp is resolved from an install folder, not from the repo.
async function import_node_llama_cpp() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [process.env.LMPACK_LLAMACPP_DIR, path.resolve(here, "../../build-llamacpp")].filter(Boolean);
  for (const d of dirs) {
    const pkg = path.join(d, "node_modules", "node-llama-cpp", "package.json");
    if (!fs.existsSync(pkg)) continue;
    const meta = JSON.parse(fs.readFileSync(pkg, "utf8"));
    const entry = path.join(d, "node_modules", "node-llama-cpp", meta.exports["."].import ?? meta.main);
    return {mod: await import(pathToFileURL(entry).href), version: meta.version, dir: d};
  }
  fail("node-llama-cpp", `not installed in ${dirs.join(" or ")}; run scripts/install_llamacpp_check.sh`);
}

const is_space = (c) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";

function strip_ascii(s) {
  let b = 0, e = s.length;
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.slice(b, e);
}

function split_documents(text, sep, max_docs) {
  const docs = [];
  let start = 0;
  for (;;) {
    if (max_docs > 0 && docs.length >= max_docs) break;
    const hit = text.indexOf(sep, start);
    const end = hit < 0 ? text.length : hit;
    const doc = strip_ascii(text.slice(start, end));
    if (doc.length) docs.push(doc);
    if (hit < 0) break;
    start = hit + sep.length;
  }
  return docs;
}

// Sequences of {tokens, first_target}; target t is predicted from position t-1.
function build_sequences(o, text, model, bos) {
  const tokenize = (s) => Array.from(model.tokenize(s, false));
  const seqs = [];
  if (o.sep !== "") {
    const docs = split_documents(text, o.sep, o.max_docs);
    for (const doc of docs) {
      let tokens = (bos >= 0 ? [bos] : []).concat(tokenize(doc));
      if (tokens.length > o.ctx) tokens = tokens.slice(0, o.ctx);
      if (tokens.length > 1) seqs.push({tokens, first_target: 1});
    }
    if (!seqs.length) fail(o.text, `no document with a token to score (${docs.length} non-empty documents)`);
    return seqs;
  }
  const all = (bos >= 0 ? [bos] : []).concat(tokenize(text));
  let windows = Math.floor(all.length / o.ctx);
  if (o.chunks > 0) windows = Math.min(windows, o.chunks);
  if (windows < 1) fail(o.text, `only ${all.length} tokens, need at least ${o.ctx}`);
  const first_target = o.second_half ? Math.floor(o.ctx / 2) + 1 : 1;
  for (let w = 0; w < windows; w++) {
    const tokens = all.slice(w * o.ctx, (w + 1) * o.ctx);
    if (bos >= 0) tokens[0] = bos;
    seqs.push({tokens, first_target});
  }
  return seqs;
}

const kLmpackHashSeed = 14695981039346656037n;

function hash_targets(seqs) {
  let h = kLmpackHashSeed;
  const prime = 0x100000001b3n, mask = (1n << 64n) - 1n;
  for (const s of seqs)
    for (let t = s.first_target; t < s.tokens.length; t++) {
      const u = s.tokens[t] >>> 0;
      for (let b = 0; b < 4; b++) {
        h ^= BigInt((u >>> (8 * b)) & 0xff);
        h = (h * prime) & mask;
      }
    }
  return h;
}

async function main() {
  const o = parse_args(process.argv.slice(2));
  const {mod, version, dir} = await import_node_llama_cpp();
  const {getLlama, LlamaLogLevel} = mod;
  const t0 = performance.now();
  const llama = await getLlama({gpu: false, build: "never", usePrebuiltBinaries: true,
                                logLevel: o.verbose ? LlamaLogLevel.info : LlamaLogLevel.warn});
  const model = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
  if (o.ctx === 0) o.ctx = model.trainContextSize;
  const bos = model.tokens.bos ?? -1;
  const text = fs.readFileSync(o.text, "utf8");
  const seqs = build_sequences(o, text, model, bos);
  const longest = Math.max(...seqs.map((s) => s.tokens.length));

  const ctx_opts = {contextSize: Math.max(longest, 32), batchSize: Math.max(longest, 32), sequences: 1,
                    flashAttention: o.flash};
  if (o.threads) ctx_opts.threads = o.threads;
  if (o.kv_type) { ctx_opts.experimentalKvCacheKeyType = o.kv_type; ctx_opts.experimentalKvCacheValueType = o.kv_type; }
  const context = await model.createContext(ctx_opts);
  const sequence = context.getSequence();

  let nll = 0, scored = 0, underflow = 0, n_vocab = 0;
  for (const s of seqs) {
    await sequence.clearHistory();
    const input = s.tokens.map((tok, i) =>
      i >= s.first_target - 1 && i + 1 < s.tokens.length ? [tok, {generateNext: {probabilities: true}}] : tok);
    const out = await sequence.controlledEvaluate(input);
    for (let t = s.first_target; t < s.tokens.length; t++) {
      const probs = out[t - 1]?.next?.probabilities;
      if (!probs) fail(o.model, `llama.cpp returned no probabilities at position ${t - 1}`);
      n_vocab = Math.max(n_vocab, probs.size);
      let p = probs.get(s.tokens[t]) ?? 0;
      // The package normalises in float32: a probability below ~1e-38 reads 0.
      if (!(p > 0)) { p = 1e-45; underflow++; }
      nll -= Math.log(p);
      scored++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    perplexity: Math.exp(nll / scored),
    tokens: scored,
    sequences: seqs.length,
    ctx: o.ctx,
    nll_mean: nll / scored,
    targets_hash: hash_targets(seqs).toString(16).padStart(16, "0"),
    seconds: Number(seconds.toFixed(3)),
    llama_cpp: {
      package: `node-llama-cpp@${version}`,
      install_dir: dir,
      release: llama.llamaCppRelease,
      build_type: llama.buildType,
      gpu: llama.gpu,
      model: model.typeDescription,
      kv_type: o.kv_type ?? "F16 (default)",
      n_vocab,
      underflowed_probabilities: underflow,
    },
  };
  process.stdout.write(JSON.stringify(result) + "\n");
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

await main();
