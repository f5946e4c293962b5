import { enableCompileCache } from "module";

// Node's own on-disk cache of compiled module code (os.tmpdir()/node-compile-cache, keyed by each file's
// content, so never stale), as tsc turns on for itself: compiling the SDK's, the providers' and the tools'
// JavaScript was a fifth of each preview. Imported first, so it covers every module after it.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off (npm run bench times the preview both ways).
enableCompileCache?.();
