// pino-roll 4 ships no type declarations; this is the part of its API the file logger uses.
declare module "pino-roll" {
  /** The SonicBoom stream pino-roll resolves to. */
  interface RollStream {
    write(chunk: string): boolean;
    flushSync(): void;
    end(): void;
    once(event: "close", listener: () => void): RollStream;
  }
  interface PinoRollOptions {
    file: string | (() => string);
    size?: number | string;
    frequency?: "daily" | "hourly" | number;
    extension?: string;
    dateFormat?: string;
    mkdir?: boolean;
    symlink?: boolean;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<RollStream>;
}
