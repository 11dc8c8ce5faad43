import { prepared } from './prepared';

describe('prepared statement names', () => {
  it('gives a text the same name every time, also after more than a thousand other texts, and each text its own', () => {
    const first = prepared('SELECT 1', []).name;
    const others = Array.from({ length: 1500 }, (_, n) => prepared(`SELECT ${n + 2}`, [n]).name);

    expect(prepared('SELECT 1', [7])).toEqual({ name: first, text: 'SELECT 1', values: [7] });
    expect(new Set([first, ...others]).size).toBe(1501);
    expect(prepared('SELECT 2', []).name).toBe(others[0]);
  });
});
