import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_REGIONS } from '../../lib/regions.js';

describe('Supported regions', () => {
  it('are exactly the regions the README lists, the ones the template is checked for', () => {
    const readme = readFileSync('README.md', 'utf8');
    const paragraph = readme.slice(readme.indexOf('**Supported regions**'));
    const listed = paragraph.slice(0, paragraph.indexOf('. Not ')).match(/`([a-z]{2}-[a-z]+-\d)`/g) ?? [];
    expect(listed.map((region) => region.replaceAll('`', ''))).toEqual([...SUPPORTED_REGIONS]);
  });
});
