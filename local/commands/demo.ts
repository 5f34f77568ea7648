// TODO: implemented by its issue.
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('ost-forward demo: not implemented yet\n');
  return 2;
}
