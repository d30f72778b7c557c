// node tfjs_movenet.js singlepose FRAMES.bin META.json OUT.json MODEL.json
// node tfjs_movenet.js multipose FRAMES.bin META.json OUT.json MODEL.json boundingBox|keypoint
//
// Runs Google's TF.js runtime, @tensorflow-models/pose-detection's MoveNet, on @tensorflow/tfjs's pure JS CPU
// backend, frame by frame with each frame's timestamp, and writes what it returns. singlepose: SinglePose Lightning,
// which tracks its own crop region from frame to frame (smoothing on); multipose: MultiPose Lightning with the given
// tracker (tracking and smoothing on). Every other option is at the package defaults. FRAMES.bin: raw uint8 RGB
// frames, T*H*W*3 in C order; META.json: {"height", "width", "timestamps_ms": [...]}. MODEL.json is the released
// graph model (its .bin beside it), loaded from memory (no tfjs-node). Needs NODE_PATH to hold @tensorflow/tfjs,
// @tensorflow-models/pose-detection and @mediapipe/pose (tests/tracking/multipose_clips.py installs them). Prints
// the run's seconds on stderr.
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
// [x, y, score] per keypoint, x and y in pixels of the frame.
const pixelKeypoints = pose => pose.keypoints.map(k => [round(k.x, 2), round(k.y, 2), round(k.score, 4)]);

const USAGE = 'usage: node tfjs_movenet.js singlepose FRAMES.bin META.json OUT.json MODEL.json\n' +
              '       node tfjs_movenet.js multipose FRAMES.bin META.json OUT.json MODEL.json boundingBox|keypoint';

function detectorConfig(modelType, modelPath, tracker) {
  if (modelType === 'singlepose') {
    return {modelType: poseDetection.movenet.modelType.SINGLEPOSE_LIGHTNING, modelUrl: graphModelHandler(modelPath),
            enableSmoothing: true};
  }
  const trackerTypes = {boundingBox: poseDetection.TrackerType.BoundingBox,
                        keypoint: poseDetection.TrackerType.Keypoint};
  return {modelType: poseDetection.movenet.modelType.MULTIPOSE_LIGHTNING, modelUrl: graphModelHandler(modelPath),
          enableTracking: true, trackerType: trackerTypes[tracker], enableSmoothing: true};
}

// The normalised crop region the single-pose detector will cut the next frame with (null: it starts over from the
// whole frame, as on the first frame and after a frame without a pose). A private field of MoveNetDetector.
function nextCrop(detector) {
  const crop = detector.cropRegion;
  return crop ? [round(crop.yMin, 5), round(crop.xMin, 5), round(crop.yMax, 5), round(crop.xMax, 5)] : null;
}

async function main() {
  const [modelType, framesPath, metaPath, outPath, modelPath, tracker] = process.argv.slice(2);
  const multipose = modelType === 'multipose';
  if (!['singlepose', 'multipose'].includes(modelType) || !modelPath ||
      (multipose ? !['boundingBox', 'keypoint'].includes(tracker) : tracker !== undefined)) {
    throw new Error(USAGE);
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
  const detector = await poseDetection.createDetector(poseDetection.SupportedModels.MoveNet,
                                                     detectorConfig(modelType, modelPath, tracker));
  const frames = [];
  for (let i = 0; i < meta.timestamps_ms.length; i++) {
    const t = meta.timestamps_ms[i];
    const image = tf.tensor3d(Int32Array.from(bytes.subarray(i * frameSize, (i + 1) * frameSize)),
                              [height, width, 3], 'int32');
    const poses = await detector.estimatePoses(image, {}, t);
    image.dispose();
    if (multipose) {
      frames.push({frame: i, timestamp_ms: t, poses: poses.map(pose => ({
        id: pose.id,
        score: round(pose.score, 4),
        box: {xMin: round(pose.box.xMin, 5), yMin: round(pose.box.yMin, 5),
              xMax: round(pose.box.xMax, 5), yMax: round(pose.box.yMax, 5)},
        keypoints: pixelKeypoints(pose),
      }))});
    } else {
      frames.push({frame: i, timestamp_ms: t, poses: poses.map(pose => ({
        score: round(pose.score, 4),
        keypoints: pixelKeypoints(pose),
      })), next_crop: nextCrop(detector)});
    }
  }
  const versions = {package: `@tensorflow-models/pose-detection@${packageVersion}`, tfjs: tf.version.tfjs,
                    backend: tf.getBackend()};
  const out = multipose ? {...versions, tracker, height, width, frames}
                        : {...versions, model: poseDetection.movenet.modelType.SINGLEPOSE_LIGHTNING, height, width,
                           frames};
  fs.writeFileSync(outPath, JSON.stringify(out));
  detector.dispose();
  process.stderr.write(`seconds ${((Date.now() - start) / 1000).toFixed(1)}\n`);
}
main().catch(e => { console.error(e); process.exit(1); });
