// checks.mjs: what the Node tests of the SDK client share: "ok"/"not ok" lines from exact
// comparisons, a bound on each wait and on the whole run, and the closing count.
//
//   const { eq, within, sleep, done } = checks(60);  // the run fails after 60 s
import { isDeepStrictEqual } from 'node:util';

export function checks(limitS) {
  let passed = 0, failed = 0;
  const eq = (name, got, want) => {
    if (isDeepStrictEqual(got, want)) { passed++; console.log(`ok - ${name}`); }
    else { failed++; console.log(`not ok - ${name}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`); }
  };
  const within = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: nothing within ${ms} ms`)), ms))]);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const done = () => { console.log(`# ${passed} passed, ${failed} failed`); process.exit(failed ? 1 : 0); };
  setTimeout(() => { console.log(`not ok - the run finishes within ${limitS} s`); console.log(`# ${passed} passed, ${failed + 1} failed`); process.exit(1); }, limitS * 1000).unref();
  return { eq, within, sleep, done };
}
