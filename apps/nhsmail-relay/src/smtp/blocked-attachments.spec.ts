import { blockedAttachment } from './blocked-attachments';

describe('blocked attachment types', () => {
  it.each([
    ['setup.exe', 'application/octet-stream'],
    ['RUN.BAT', 'text/plain'],
    ['invoice.pdf.js', 'application/pdf'],
    ['budget.xlsm', 'application/octet-stream'],
    ['letter.docm. ', 'application/octet-stream'],
    ['payload.bin', 'application/x-msdownload'],
    ['report.doc', 'application/vnd.ms-word.document.macroEnabled.12; name=report.doc'],
    [undefined, 'application/x-dosexec'],
  ])('refuses %s (%s) and says why', (filename, type) => {
    expect(blockedAttachment(filename, type)).toMatch(/blocked attachment type/);
  });

  it.each([
    ['discharge-summary.pdf', 'application/pdf'],
    ['letter.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['scan.jpeg', 'image/jpeg'],
    [undefined, 'message/rfc822'],
  ])('lets %s (%s) through', (filename, type) => {
    expect(blockedAttachment(filename, type)).toBeUndefined();
  });
});
