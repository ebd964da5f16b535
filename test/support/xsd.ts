/**
 * Validates pain.001 files against the published ISO 20022 / EPC schemas (copies in
 * test/fixtures/iso20022, see its README) with libxml2 compiled to WebAssembly.
 */
import { readFile } from 'node:fs/promises';
import { validateXML } from 'xmllint-wasm';
import type { SepaVersion } from '../../src/ledger/sepa.js';

const schema_files: Readonly<Record<SepaVersion, string>> = {
  '09': 'pain.001.001.09-EPC132-08-2023-C2PSP.xsd',
  '03': 'pain.001.001.03.xsd',
};

const schemas = new Map<SepaVersion, Promise<string>>();

function schemaOf(version: SepaVersion): Promise<string> {
  let schema = schemas.get(version);
  if (schema === undefined) {
    schema = readFile(new URL(`../fixtures/iso20022/${schema_files[version]}`, import.meta.url), 'utf8');
    schemas.set(version, schema);
  }
  return schema;
}

/**
 * The schema errors of each file, in order (an empty list for a valid file). All files go to
 * one run of xmllint: starting it costs about a second, validating a file a few milliseconds.
 */
export async function schemaErrors(version: SepaVersion, files: readonly string[]): Promise<string[][]> {
  const names = files.map((_, index) => `file-${index}.xml`);
  const result = await validateXML({
    xml: files.map((contents, index) => ({ fileName: names[index]!, contents })),
    schema: [{ fileName: schema_files[version], contents: await schemaOf(version) }],
  });
  const errors = names.map(() => [] as string[]);
  // A line xmllint does not place (the source line and caret under a parse error, "x.xml fails
  // to validate") belongs to the file it names, else to the error before it, else to every file.
  let current = -1;
  for (const error of result.errors) {
    const named = names.findIndex((name) => error.rawMessage.startsWith(`${name} `));
    current = error.loc === null ? (named === -1 ? current : named) : names.indexOf(error.loc.fileName);
    if (current === -1) for (const list of errors) list.push(error.rawMessage);
    else errors[current]!.push(error.loc === null ? error.rawMessage : error.message);
  }
  if (!result.valid && errors.every((list) => list.length === 0)) errors.forEach((list) => list.push(result.rawOutput));
  return errors;
}
