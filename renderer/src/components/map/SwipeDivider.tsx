import { useRef } from 'react';

/** The vertical bar of a swipe comparison; dragging it moves the edge of the clipped top layer. */
export function SwipeDivider({ position, onMove }: { position: number; onMove: (position: number) => void }) {
  const ref = useRef<HTMLDivElement | null>(null);
  const onPointerDown = (e: React.PointerEvent<HTMLDivElement>) => {
    e.preventDefault();
    e.stopPropagation();
    const bar = e.currentTarget;
    bar.setPointerCapture(e.pointerId);
    const parent = bar.parentElement!;
    const move = (ev: PointerEvent) => {
      const r = parent.getBoundingClientRect();
      onMove(Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)));
    };
    const up = () => {
      bar.removeEventListener('pointermove', move);
      bar.removeEventListener('pointerup', up);
    };
    bar.addEventListener('pointermove', move);
    bar.addEventListener('pointerup', up);
  };
  return (
    <div
      ref={ref}
      className="swipe-divider"
      data-testid="swipe-divider"
      role="separator"
      aria-orientation="vertical"
      aria-label="Swipe between layers"
      aria-valuenow={Math.round(position * 100)}
      tabIndex={0}
      onKeyDown={(e) => {
        if (e.key === 'ArrowLeft') onMove(Math.max(0, position - 0.02));
        if (e.key === 'ArrowRight') onMove(Math.min(1, position + 0.02));
      }}
      onPointerDown={onPointerDown}
      style={{ left: `${position * 100}%` }}
    />
  );
}
