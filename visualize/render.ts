import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, renderAll } from './generate.ts';

const files = await renderAll();
mkdirSync(GENERATED_DIR, { recursive: true });
for (const [name, content] of files) {
  writeFileSync(join(GENERATED_DIR, name), content);
  console.log(`wrote visualize/generated/${name} (${content.length} bytes)`);
}
