/** @module error-boundary — a page that crashes while rendering shows a message, never a blank screen. */
import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error("ICaaS UI error:", error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <section className="page">
        <div className="notice notice--error" role="alert">
          <div className="notice__body">
            <p className="notice__title">This page failed to display</p>
            <p>{this.state.error.message}</p>
          </div>
          <button type="button" className="button button--small" onClick={() => window.location.reload()}>
            Reload
          </button>
        </div>
      </section>
    );
  }
}
