/** Boxes that scroll on their own. They take focus, so keyboard users can scroll them too (WCAG 2.1.1). */
import type { ComponentChildren } from "preact";
import { json } from "./format";

export function ScrollRegion(props: { label: string; className?: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable from the keyboard
    <section class={props.className ? `scroll ${props.className}` : "scroll"} tabIndex={0} aria-label={props.label}>
      {props.children}
    </section>
  );
}

/** A value as pretty-printed JSON in a scrolling box. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <ScrollRegion label={label} className="json">
      <pre>{json(value)}</pre>
    </ScrollRegion>
  );
}
