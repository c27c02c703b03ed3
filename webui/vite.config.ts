// The console is served by `ctihub serve` at /ui/ from files embedded in the binary.
// CMake passes --outDir build/<preset>/webui-dist; index.html stays the only HTML file and
// every script and style is a hashed file under assets/ (the CSP allows no inline code).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // Inlined assets would become data: URLs in CSS/JS; keep everything a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    modulePreload: { polyfill: false },
  },
  server: { host: "127.0.0.1" },
});
