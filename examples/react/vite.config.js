import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `base: "./"` keeps the built page loadable from any path (a static file server, a bucket).
export default defineConfig({ base: "./", plugins: [react()] });
