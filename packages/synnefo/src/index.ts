/** @module @icaas/synnefo */
export {};
