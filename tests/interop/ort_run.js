// Runs an ONNX model in ONNX Runtime (npm's onnxruntime-node) on one float32 matrix.
// Usage: node ort_run.js ORT_MODULE_DIR MODEL.onnx IN.f32 ROWS COLS OUT.f32
// IN.f32 / OUT.f32: little-endian float32, row-major; prints the output's dims as JSON.
const fs = require('fs');
const [ortDir, model, inPath, rows, cols, outPath] = process.argv.slice(2);
const ort = require(ortDir);

async function main() {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const buf = fs.readFileSync(inPath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x, [Number(rows), Number(cols)]);
  const result = await session.run(feeds);
  const y = result[session.outputNames[0]];
  fs.writeFileSync(outPath, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify(y.dims));
}

main().catch((e) => { console.error(String(e)); process.exit(1); });
