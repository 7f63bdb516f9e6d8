/** @module @icaas/agent */
export {};
