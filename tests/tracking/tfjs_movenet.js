// node tfjs_multipose.js FRAMES.bin META.json TRACKER OUT.json [MODEL.json]
//
// Runs Google's TF.js runtime, @tensorflow-models/pose-detection (MoveNet MultiPose Lightning, tracking and
// smoothing on, every other option at the package defaults) on @tensorflow/tfjs's pure JS CPU backend, frame by
// frame, and writes what it returns. FRAMES.bin: raw uint8 RGB frames, T*H*W*3 in C order; META.json:
// {"height", "width", "timestamps_ms": [...]}; TRACKER: boundingBox or keypoint. The model is the released graph
// model (MODEL.json, or $MOVENET_MULTIPOSE_MODEL, with its .bin beside it), loaded from memory (no tfjs-node).
// Needs NODE_PATH to hold @tensorflow/tfjs, @tensorflow-models/pose-detection and @mediapipe/pose
// (tests/tracking/multipose_clips.py installs them). Prints the run's seconds on stderr.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const poseDetection = require('@tensorflow-models/pose-detection');
const packageVersion = require('@tensorflow-models/pose-detection/package.json').version;

function graphModelHandler(modelPath) {
  const dir = path.dirname(modelPath);
  const model = JSON.parse(fs.readFileSync(modelPath));
  const specs = [], buffers = [];
  for (const group of model.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const data = Buffer.concat(buffers);
  return tf.io.fromMemory({
    modelTopology: model.modelTopology, weightSpecs: specs,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    signature: model.signature, format: model.format, generatedBy: model.generatedBy,
    convertedBy: model.convertedBy, userDefinedMetadata: model.userDefinedMetadata,
    modelInitializer: model.modelInitializer});
}

const round = (x, digits) => Number(x.toFixed(digits));

async function main() {
  const [framesPath, metaPath, tracker, outPath, modelArg] = process.argv.slice(2);
  const modelPath = modelArg || process.env.MOVENET_MULTIPOSE_MODEL;
  const trackerTypes = {boundingBox: poseDetection.TrackerType.BoundingBox,
                        keypoint: poseDetection.TrackerType.Keypoint};
  if (!outPath || !modelPath || !(tracker in trackerTypes)) {
    throw new Error('usage: node tfjs_multipose.js FRAMES.bin META.json boundingBox|keypoint OUT.json [MODEL.json]');
  }
  const start = Date.now();
  const meta = JSON.parse(fs.readFileSync(metaPath));
  const {height, width} = meta;
  const frameSize = height * width * 3;
  const bytes = fs.readFileSync(framesPath);
  if (bytes.length !== frameSize * meta.timestamps_ms.length) {
    throw new Error(`${framesPath} holds ${bytes.length} bytes, not ${meta.timestamps_ms.length} frames of ` +
                    `${height}x${width}x3`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  const detector = await poseDetection.createDetector(poseDetection.SupportedModels.MoveNet, {
    modelType: poseDetection.movenet.modelType.MULTIPOSE_LIGHTNING,
    modelUrl: graphModelHandler(modelPath),
    enableTracking: true,
    trackerType: trackerTypes[tracker],
    enableSmoothing: true,
  });
  const frames = [];
  for (let i = 0; i < meta.timestamps_ms.length; i++) {
    const t = meta.timestamps_ms[i];
    const image = tf.tensor3d(Int32Array.from(bytes.subarray(i * frameSize, (i + 1) * frameSize)),
                              [height, width, 3], 'int32');
    const poses = await detector.estimatePoses(image, {}, t);
    image.dispose();
    frames.push({frame: i, timestamp_ms: t, poses: poses.map(pose => ({
      id: pose.id,
      score: round(pose.score, 4),
      box: {xMin: round(pose.box.xMin, 5), yMin: round(pose.box.yMin, 5),
            xMax: round(pose.box.xMax, 5), yMax: round(pose.box.yMax, 5)},
      keypoints: pose.keypoints.map(k => [round(k.x, 2), round(k.y, 2), round(k.score, 4)]),
    }))});
  }
  const out = {package: `@tensorflow-models/pose-detection@${packageVersion}`, tfjs: tf.version.tfjs,
               backend: tf.getBackend(), tracker, height, width, frames};
  fs.writeFileSync(outPath, JSON.stringify(out));
  detector.dispose();
  process.stderr.write(`seconds ${((Date.now() - start) / 1000).toFixed(1)}\n`);
}
main().catch(e => { console.error(e); process.exit(1); });
