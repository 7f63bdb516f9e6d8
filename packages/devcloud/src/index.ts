/** @module @icaas/devcloud */
export {};
