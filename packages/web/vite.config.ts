/** @module vite.config — builds the UI into dist/, which the service serves at `/`. */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w packages/web` against a running service: ICAAS_URL=http://127.0.0.1:8080
    proxy: { "/icaas": process.env.ICAAS_URL ?? "http://127.0.0.1:8080" },
  },
});
