#!/usr/bin/env node
'use strict';
/*
 * Makes tests/golden/embed_<image>.txt: Human 3.3.6's faceres descriptor
 * ("global_pooling/Mean", 1024 values) computed by TensorFlow.js 4.22.0
 * (WASM backend) on the crop libfaceswap's embedder takes from each image.
 *
 *   FS_EMBED_WRITE_CROPS=/tmp/crops FS_MODEL_DIR=data/models \
 *     FS_TESTDATA_DIR=data/testdata FS_GOLDEN_DIR=tests/golden build/tests/test_embed
 *   node tests/golden/make-embed-golden.js /work/shared/refharness data/models /tmp/crops tests/golden
 *
 * The C test writes, per image, the decoded pixels (<image>.png, lossless,
 * so JPEG decoders cannot differ), the crop square from the landmarks
 * (<image>.box) and its own model input (<image>.crop.f32). This script
 * crops the PNG itself as Human does (tf.image.cropAndResize with the box
 * normalised by the image size, bilinear, 0 outside; /255 then *255 as
 * Human's FaceMesh crop and faceres' enhance() do), checks that its crop
 * matches the C one, runs faceres and writes the box and the descriptor.
 */
const fs = require('fs');
const path = require('path');

const [harness, models, crops, outdir] = process.argv.slice(2);
if (!outdir) {
  console.error('usage: make-embed-golden.js REFHARNESS_DIR MODELS_DIR CROPS_DIR OUT_DIR');
  process.exit(2);
}
const req = (m) => require(path.join(harness, 'node_modules', m));
const tf = req('@tensorflow/tfjs-core');
req('@tensorflow/tfjs-backend-wasm');
const tfconv = req('@tensorflow/tfjs-converter');
const { registerFileRouter } = require(path.join(harness, 'lib', 'fileio'));
const { decodeImage } = require(path.join(harness, 'lib', 'image'));

const IMAGES = [['astronaut.png', 'embed_astronaut.txt'], ['messi5.jpg', 'embed_messi5.txt']];
const SIZE = 224;

async function main() {
  registerFileRouter(tf);
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await tfconv.loadGraphModel(`file://${path.resolve(models, 'faceres.json')}`);
  const sha = require('crypto').createHash('sha256')
    .update(fs.readFileSync(path.join(models, 'faceres.bin'))).digest('hex');
  for (const [image, out] of IMAGES) {
    const img = decodeImage(path.join(crops, `${image}.png`));
    const box = fs.readFileSync(path.join(crops, `${image}.box`), 'utf8').trim().split(/\s+/).map(Number);
    const cdata = new Float32Array(fs.readFileSync(path.join(crops, `${image}.crop.f32`)).buffer.slice(0));
    const [x1, y1, x2, y2] = box;
    const W = img.width; const H = img.height;
    const desc = tf.tidy(() => {
      const t = tf.tensor4d(Float32Array.from(img.rgb), [1, H, W, 3], 'float32');
      const crop = tf.image.cropAndResize(t, [[y1 / H, x1 / W, y2 / H, x2 / W]], [0], [SIZE, SIZE], 'bilinear', 0);
      const input = tf.mul(tf.div(crop, 255), 255);
      const mine = input.dataSync();
      let maxd = 0;
      for (let i = 0; i < mine.length; i++) maxd = Math.max(maxd, Math.abs(mine[i] - cdata[i]));
      if (!(maxd <= 1e-3)) throw new Error(`${image}: tfjs crop differs from the C crop by ${maxd}`);
      console.error(`${image}: box ${box.join(' ')}, crop max |tfjs - C| = ${maxd}`);
      const res = model.execute(input);
      const d = res.find((r) => r.shape[1] === 1024);
      return { values: Array.from(d.dataSync()), cropDiff: maxd };
    });
    const norm = Math.sqrt(desc.values.reduce((s, v) => s + v * v, 0));
    const lines = [
      `# faceres descriptor ("global_pooling/Mean", raw, not normalised) of ${image}`,
      `# made by tests/golden/make-embed-golden.js: tfjs-core ${tf.version_core}, backend ${tf.getBackend()}, node ${process.version}`,
      `# model faceres.bin sha256 ${sha}`,
      `# crop: cropAndResize of the decoded pixels (libfaceswap's decode, via PNG) to ${SIZE}x${SIZE}, /255 *255;`,
      `# max |tfjs crop - libfaceswap crop| = ${desc.cropDiff}; descriptor L2 norm ${norm}`,
      `box ${box.join(' ')}`,
      ...desc.values.map((v) => String(Math.fround(v))),
    ];
    fs.writeFileSync(path.join(outdir, out), `${lines.join('\n')}\n`);
    console.error(`${image}: wrote ${out} (norm ${norm.toFixed(4)})`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
