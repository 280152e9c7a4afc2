#!/usr/bin/env node
'use strict';
/*
 * Golden outputs of the four graph models for tests/test_nn.c, computed by
 * TensorFlow.js 4.22 on a synthetic input that the C test rebuilds exactly.
 *
 * usage: node make-nn-golden.js HARNESS_DIR MODELS_DIR OUT_DIR
 *   HARNESS_DIR  a copy of ../shared/refharness with `npm install` done
 *                (its node_modules and lib/fileio.js are used; no network)
 *   MODELS_DIR   data/models (blazeface/facemesh/iris/faceres .json + .bin)
 *   OUT_DIR      tests/golden/nn
 *
 * Input: an image-like pattern (smooth waves plus a little integer-hash
 * noise, so that every layer sees varied data), computed in double and
 * stored as float32, so tfjs and C build the same tensor. For flat NHWC
 * index i of a [B,H,W,3] tensor: c = i % 3, p = floor(i / 3) % (H * W),
 * x = p % W, y = floor(p / W), b = floor(i / (H * W * 3)),
 *   v = 0.5 + 0.25 sin(0.05 x + 0.9 c + 0.3 b) + 0.2 cos(0.037 y - 0.02 x) + 0.05 noise(i)
 *   noise(i) = hash32(i) / 2^31 - 1   (hash32 below, exact in 32-bit integers)
 * and x[i] = scale * v + offset with the range each model is fed:
 *   blazeface 2v - 1 ([-1, 1]); facemesh, iris v ([0, 1]); faceres 255 v ([0, 255]).
 * Output <model>.f32: the outputs below, concatenated in this order, each
 * flattened in TF (row-major) order, little-endian float32. The reference is
 * the pure-JS `cpu` backend (plain float32 loops); the `wasm` backend
 * (XNNPACK) is run too and its max difference is printed, as a yardstick for
 * the C tolerances.
 */
const fs = require('fs');
const path = require('path');

const [harness, modelsDir, outDir] = process.argv.slice(2).map((p) => p && path.resolve(p));
if (!harness || !modelsDir || !outDir) {
  console.error('usage: node make-nn-golden.js HARNESS_DIR MODELS_DIR OUT_DIR');
  process.exit(2);
}
const req = (m) => require(path.join(harness, 'node_modules', m));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-backend-cpu');
const wasm = req('@tensorflow/tfjs-backend-wasm');
const tfconv = req('@tensorflow/tfjs-converter');
const { registerFileRouter } = require(path.join(harness, 'lib', 'fileio'));

const MODELS = [
  { name: 'blazeface', batch: 1, scale: 2, offset: -1, outputs: ['Identity', 'Identity_1', 'Identity_2', 'Identity_3'] },
  { name: 'facemesh', batch: 1, scale: 1, offset: 0, outputs: ['Identity', 'Identity_1', 'Identity_2'] },
  { name: 'iris', batch: 2, scale: 1, offset: 0, outputs: ['Identity'] },
  { name: 'faceres', batch: 1, scale: 255, offset: 0, outputs: ['global_pooling/Mean', 'gender_pred/Sigmoid', 'age_pred/Softmax'] },
];

function hash32(i) {
  let x = (i ^ 0x9e3779b9) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function makeInput(shape, scale, offset) {
  const [B, H, W, C] = shape;
  const n = B * H * W * C;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    const p = Math.floor(i / 3) % (H * W);
    const px = p % W;
    const py = Math.floor(p / W);
    const b = Math.floor(i / (H * W * 3));
    const v = 0.5 + 0.25 * Math.sin(0.05 * px + 0.9 * c + 0.3 * b) + 0.2 * Math.cos(0.037 * py - 0.02 * px)
      + 0.05 * (hash32(i) / 2147483648 - 1);
    x[i] = scale * v + offset;
  }
  return tf.tensor(x, shape, 'float32');
}

async function runAll(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  const res = {};
  for (const m of MODELS) {
    const model = await tfconv.loadGraphModel(`file://${path.join(modelsDir, `${m.name}.json`)}`);
    const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? m.batch : d));
    const x = makeInput(shape, m.scale, m.offset);
    const outs = model.execute(x, m.outputs);
    const list = Array.isArray(outs) ? outs : [outs];
    res[m.name] = list.map((t, k) => ({ name: m.outputs[k], shape: t.shape, data: t.dataSync().slice() }));
    tf.dispose(list);
    x.dispose();
    model.dispose();
  }
  return res;
}

async function main() {
  registerFileRouter(tf);
  wasm.setWasmPaths(`${path.join(harness, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`);
  const cpu = await runAll('cpu');
  const was = await runAll('wasm');
  fs.mkdirSync(outDir, { recursive: true });
  for (const m of MODELS) {
    const parts = cpu[m.name];
    const total = parts.reduce((a, p) => a + p.data.length, 0);
    const buf = Buffer.alloc(total * 4);
    let off = 0;
    let maxDiff = 0;
    let range = 0;
    parts.forEach((p, k) => {
      for (let i = 0; i < p.data.length; i++) {
        buf.writeFloatLE(p.data[i], off);
        off += 4;
        maxDiff = Math.max(maxDiff, Math.abs(p.data[i] - was[m.name][k].data[i]));
        range = Math.max(range, Math.abs(p.data[i]));
      }
    });
    fs.writeFileSync(path.join(outDir, `${m.name}.f32`), buf);
    const desc = parts.map((p) => `${p.name}${JSON.stringify(p.shape)}`).join(' ');
    console.log(`${m.name}: ${desc} -> ${total} floats; max|x| ${range.toPrecision(4)}, cpu vs wasm max diff ${maxDiff.toExponential(2)}`);
  }
  console.log(`tfjs ${tf.version_core}, node ${process.version}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
