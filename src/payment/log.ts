/** The slice of a pino logger the payment code uses. */
export interface PaymentLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: PaymentLog = { info() {}, warn() {}, error() {} };
