// Which build of quantlab's engine this browser can run, decided before any of it loads.
// Used by the page (index.html, before the loader) and by the service worker (sw.js, so that
// it caches only the build the page will use).
//
// WebAssembly validates a whole module before running it: a module with a single relaxed-SIMD
// opcode fails to load on an engine without relaxed SIMD. So quantlab ships two builds of the
// same app (scripts/relaxed-build.sh): SIMD128, the default and the fallback, and relaxed SIMD,
// whose int8 kernels use the 8-bit dot product. The relaxed one is chosen only where
//   * the exact dot opcode validates (i32x4.relaxed_dot_i8x16_i7x16_add_s, fd 93 02; engines
//     have shipped relaxed SIMD in parts, so another relaxed opcode proves nothing), and
//   * that dot computes the exact sum on constants whose second operand fits in 7 bits, where
//     every correct lowering agrees (Node 20's flagged V8 11.3 returns twice the sum), and
//   * the link does not say `kernels=simd128` (to compare the two paths in one browser).
(function (g) {
  "use strict";
  // (module (func (export "d") (result i32)
  //   (i32x4.extract_lane 0 (i32x4.relaxed_dot_i8x16_i7x16_add_s
  //     (v128.const i8x16 3 -5 7 -128 127 ...) (v128.const i8x16 2 4 6 127 ...) (v128.const i32x4 1000 0 0 0)))))
  // Lane 0: 3·2 − 5·4 + 7·6 − 128·127 + 1000 = −15228.
  var DOT = [0,97,115,109,1,0,0,0,1,5,1,96,0,1,127,3,2,1,0,7,5,1,1,100,0,0,10,64,1,62,0,253,12,3,251,
    7,128,127,127,127,127,255,255,255,255,0,0,0,0,253,12,2,4,6,127,127,127,127,127,127,0,1,2,5,5,5,5,
    253,12,232,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,253,147,2,253,27,0,11];
  var DOT_EXPECTED = -15228;
  // (module (func (result v128) (i8x16.popcnt (i8x16.splat (i32.const 0))))): the SIMD128 build's floor.
  var SIMD = [0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,10,1,8,0,65,0,253,15,253,98,11];

  function validates(bytes) {
    try {
      return typeof WebAssembly === "object" && WebAssembly.validate(new Uint8Array(bytes));
    } catch (e) {
      return false;
    }
  }

  function relaxedDotIsExact() {
    if (!validates(DOT)) return false;
    try {
      var inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(DOT)));
      return inst.exports.d() === DOT_EXPECTED;
    } catch (e) {
      return false;
    }
  }

  var simd = validates(SIMD);
  var relaxed = simd && relaxedDotIsExact();

  // search: a location.search string ("?ch=why&kernels=simd128"); the page passes its own.
  // The last `kernels` wins, trimmed, as in the app's own link parser (crates/app/src/urlstate.rs).
  g.quantlabKernels = function (search) {
    var forced = false;
    try {
      var all = new URLSearchParams(search || "").getAll("kernels");
      forced = all.length > 0 && all[all.length - 1].trim() === "simd128";
    } catch (e) {
      forced = false;
    }
    return {
      simd: simd,
      relaxed: relaxed,
      forced: forced,
      build: relaxed && !forced ? "relaxed" : "simd128",
    };
  };
})(self);
