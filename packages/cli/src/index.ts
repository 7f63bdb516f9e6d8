/** @module @icaas/cli */
export {};
