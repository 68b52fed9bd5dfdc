// <MrtImg>: a small React wrapper for <mrt-img> (`mrt-img/react`, `mrt-img-client/react`).
//
//   import { MrtImg } from 'mrt-img-client/react';
//   <MrtImg src="/i/photo.mrt" width={768} height={512} alt="…" loading="lazy"
//           onPaint={(d) => console.log(d.kind)} />
//
// It renders <mrt-img> with the props as attributes (so server rendering gives the same
// markup), forwards children (a <noscript><img></noscript> fallback), wires onPaint / onLoad /
// onProgress / onError to the element's CustomEvents, and imports the element's module only in
// the browser, after the first render (safe to render on a server: nothing here touches the
// DOM at import time). React >= 18 (an optional peer).
import * as React from 'react';
import type { MrtErrorDetail, MrtImg as MrtImgElement, MrtLoadDetail, MrtPaintDetail, MrtProgressDetail } from './mrt-img.ts';

export type { MrtErrorDetail, MrtLoadDetail, MrtPaintDetail, MrtProgressDetail };

/** The element's own attributes (src/client/README.md, Plain HTML). */
export interface MrtImgAttributes {
  src: string;
  alt?: string;
  width?: number | string;
  height?: number | string;
  loading?: 'lazy' | 'eager';
  fetchpriority?: 'high' | 'low' | 'auto';
  budget?: string | number;
  refine?: 'auto' | 'click' | 'none';
  'refine-delay'?: number | string;
  regenerate?: 'on' | 'off';
  /** Image URL shown on a fatal error when there is no <img> or <noscript> child. */
  fallback?: string;
}

type Handlers = {
  onPaint?: (detail: MrtPaintDetail, event: CustomEvent<MrtPaintDetail>) => void;
  onLoad?: (detail: MrtLoadDetail, event: CustomEvent<MrtLoadDetail>) => void;
  onProgress?: (detail: MrtProgressDetail, event: CustomEvent<MrtProgressDetail>) => void;
  onError?: (detail: MrtErrorDetail, event: CustomEvent<MrtErrorDetail>) => void;
};

export type MrtImgProps = MrtImgAttributes &
  Handlers &
  Omit<React.HTMLAttributes<HTMLElement>, keyof Handlers | keyof MrtImgAttributes | 'dangerouslySetInnerHTML'> & {
    children?: React.ReactNode;
  };

declare module 'react' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      /** <mrt-img>: attributes as in plain HTML; events by ref (or use <MrtImg> from 'mrt-img/react'). */
      'mrt-img': React.DetailedHTMLProps<React.HTMLAttributes<MrtImgElement>, MrtImgElement> & MrtImgAttributes;
    }
  }
}

const EVENTS = { paint: 'onPaint', load: 'onLoad', progress: 'onProgress', error: 'onError' } as const;

/** The element's module, once per page, in the browser only. */
let defined: Promise<unknown> | null = null;
export function defineMrtImg(): Promise<unknown> {
  if (typeof window === 'undefined') return Promise.resolve();
  defined ??= import('./mrt-img.ts');
  return defined;
}

function MrtImgRender(props: MrtImgProps, ref: React.ForwardedRef<MrtImgElement>): React.ReactElement {
  const { onPaint, onLoad, onProgress, onError, children, ...rest } = props;
  const el = React.useRef<MrtImgElement | null>(null);
  // the latest handlers, without re-adding listeners on every render
  const handlers = React.useRef<Handlers>({});
  handlers.current = { onPaint, onLoad, onProgress, onError };
  const setRef = React.useCallback(
    (node: MrtImgElement | null) => {
      el.current = node;
      if (typeof ref === 'function') ref(node);
      else if (ref) ref.current = node;
    },
    [ref],
  );
  React.useEffect(() => {
    const node = el.current;
    if (!node) return;
    const off: (() => void)[] = [];
    for (const [type, name] of Object.entries(EVENTS)) {
      const listener = (ev: Event) => {
        const h = handlers.current[name] as ((d: unknown, e: Event) => void) | undefined;
        if (h && ev instanceof CustomEvent) h(ev.detail, ev);
      };
      node.addEventListener(type, listener);
      off.push(() => node.removeEventListener(type, listener));
    }
    // listeners first, then the element's module: no event is missed
    void defineMrtImg();
    return () => off.forEach((f) => f());
  }, []);
  const attrs: Record<string, unknown> = { ref: setRef };
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined || v === null || v === false) continue;
    // numbers and the element's attributes as strings: the same markup from the server and the client
    attrs[k] = typeof v === 'number' ? String(v) : v;
  }
  return React.createElement('mrt-img', attrs, children);
}

/** <mrt-img> for React: props as attributes, `on*` for its events, children as its fallback. */
export const MrtImg = React.forwardRef<MrtImgElement, MrtImgProps>(MrtImgRender);
MrtImg.displayName = 'MrtImg';

export default MrtImg;
