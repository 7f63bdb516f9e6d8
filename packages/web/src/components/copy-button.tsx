/** @module copy-button — copies a value to the clipboard and says so. */
import { useState } from "react";
import { useApp } from "../app-context.ts";
import { Icon } from "./icons.tsx";

export function CopyButton({ text, label }: { text: string; label: string }) {
  const { announce } = useApp();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      announce("Copied.");
      setTimeout(() => setCopied(false), 1500);
    } catch {
      announce("Copying is not allowed here; select the text instead.");
    }
  };
  return (
    <button type="button" className="button button--icon" onClick={copy} aria-label={label} title={label}>
      <Icon name={copied ? "check" : "copy"} />
    </button>
  );
}
