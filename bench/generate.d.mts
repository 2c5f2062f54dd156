// Types for the plain-ESM generator, so TypeScript tests can import it.
export declare const NAMESPACES: number;
export declare const FILES_PER_APP: number;
export declare function appName(index: number): string;
export declare function namespaceOf(index: number): string;
export declare function hasToServicesWithToPorts(index: number): boolean;
export declare function policyOf(index: number, apps: number, options?: { toServices?: boolean }): string;
export declare function repositoryFiles(apps: number): Generator<{ path: string; text: string }>;
export declare function writeRepository(dir: string, apps: number): { dir: string; files: number; bytes: number };
export declare function generateRepository(
  apps: number,
  parent?: string,
): { dir: string; files: number; bytes: number };
