import { defineConfig } from "vite";

// The app is served by the csmarket API at "/" or from any static host, so
// asset URLs are relative and the build makes no request to another origin.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // A CSP of script-src 'self' forbids inline scripts; keep every module
    // in its own file rather than inlining small ones as data: URLs.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": process.env.CSM_DEV_API ?? "http://127.0.0.1:8080",
    },
  },
});
