// node run_tfjs.js MODEL_DIR INPUTS_JSON: runs a TF.js graph model on @tensorflow/tfjs (pure JS CPU backend) and
// prints {backend, version, outputs}. INPUTS_JSON: {"images": [{"data": [...int], "shape": [1, H, W, 3]}]}.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
async function main() {
  const [dir, casePath] = process.argv.slice(2);
  const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
  const specs = [], buffers = [];
  for (const group of model.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const data = Buffer.concat(buffers);
  const artifacts = {modelTopology: model.modelTopology, weightSpecs: specs,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    signature: model.signature, format: model.format, userDefinedMetadata: model.userDefinedMetadata,
    modelInitializer: model.modelInitializer};
  await tf.setBackend('cpu');
  const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  const c = JSON.parse(fs.readFileSync(casePath));
  const out = [];
  for (const image of c.images) {
    const x = tf.tensor(image.data, image.shape, 'int32');
    const y = graph.execute(x);
    out.push(Array.from(await y.data()));
  }
  process.stdout.write(JSON.stringify({backend: tf.getBackend(), version: tf.version.tfjs, outputs: out}));
}
main().catch(e => { console.error(e); process.exit(1); });
