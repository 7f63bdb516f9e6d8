/** @module @icaas/service */
export {};
