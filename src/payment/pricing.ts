/** NUT-02 input fee: ceil(Σ input_fee_ppk of the inputs' keysets / 1000). */
export function inputFee(ppkPerInput: readonly number[]): number {
  const total = ppkPerInput.reduce((acc, ppk) => acc + ppk, 0);
  return Math.ceil(total / 1000);
}

/** Whole steps that `received` buys at `pricePerStep`. */
export function stepsFor(received: number, pricePerStep: number): number {
  if (received <= 0) return 0;
  return Math.floor(received / pricePerStep);
}

/** allotment = floor(received / price_per_step) × step_size */
export function allotmentFor(received: number, pricePerStep: number, stepSize: number): number {
  return stepsFor(received, pricePerStep) * stepSize;
}
