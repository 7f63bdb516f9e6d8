/** @module @icaas/imageprep */
export {};
