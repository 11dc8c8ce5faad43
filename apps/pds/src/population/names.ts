/**
 * Name frequency tables for the synthetic population, written for this project from general knowledge of
 * how common names are in England and Wales (relative weights, not counts). Common surnames get their own
 * weights; a long tail of plausible English place-name surnames is composed from syllables. Given names
 * depend on the decade of birth, as they do in real registers.
 */

/** The most common surnames, most common first, with relative weights (Smith = 100). */
const COMMON_SURNAMES: readonly (readonly [string, number])[] = [
  ['Smith', 100],
  ['Jones', 75],
  ['Williams', 56],
  ['Taylor', 47],
  ['Brown', 44],
  ['Davies', 42],
  ['Evans', 35],
  ['Wilson', 33],
  ['Thomas', 32],
  ['Johnson', 31],
  ['Roberts', 30],
  ['Robinson', 27],
  ['Thompson', 27],
  ['Wright', 26],
  ['Walker', 26],
  ['White', 25],
  ['Edwards', 24],
  ['Hughes', 24],
  ['Green', 23],
  ['Hall', 23],
  ['Lewis', 22],
  ['Harris', 22],
  ['Clarke', 21],
  ['Patel', 21],
  ['Jackson', 20],
];

/** Further common surnames, in falling order; their weights decay from 19. */
const MORE_SURNAMES = `Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James
  Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins
  Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman
  Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler
  Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard
  Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer
  Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman
  Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding
  Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess
  Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates
  Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy
  Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert Willis
  Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan
  Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter
  Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton
  Lawson Banks French Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Dickinson Todd Barlow Peters Lucas Knowles
  Hartley Miah Simmons Morton Alexander Field Morrison Norris Townsend Preston Hancock Thornton Baldwin Burrows Briggs
  Storey Pollard Parkinson Howell Nowak Kowalski Okafor Mensah Nguyen Chen Wong Rahman Islam Sharma Kumar Mistry`
  .split(/\s+/)
  .filter((name) => name.length > 0);

/** Rarer spellings that sound like common names, so that phonetic search has something to find. */
const VARIANT_SURNAMES: readonly (readonly [string, number])[] = [
  ['Smyth', 1.5],
  ['Smythe', 0.8],
  ['Jons', 0.2],
  ['Tailor', 0.3],
  ['Browne', 1.2],
  ['Thompsen', 0.2],
  ['Clerk', 0.3],
  ['Philips', 1],
  ['Mathews', 1.2],
  ['Stephenson-Smith', 0.3],
  ['Davies-Jones', 0.3],
];

const TAIL_STARTS = `Ash Brad Brook Cald Craw Dal Fair Green Hal Hart Hol Kings Lang Marl Mid North Oak Pem Rad Ran Roth
  Shel South Stan Thorn Wake Wes Whit Win Wor Ald Bar Bel Black Brom Chat Cot Dun Elm Far Gold Hather Lud Mor Pen Rush
  Saltin Sed Tam Ux`
  .split(/\s+/)
  .filter((part) => part.length > 0);
const TAIL_ENDS = `ford ley ton worth wood field ham by wick well more ridge combe stead burn dale hurst thorpe croft
  bridge`
  .split(/\s+/)
  .filter((part) => part.length > 0);

/** Every surname with its weight: common ones, variants, and a tail (together about 45% of people). */
export function surnameWeights(): [string, number][] {
  const weights: [string, number][] = COMMON_SURNAMES.map(([name, weight]) => [name, weight]);
  MORE_SURNAMES.forEach((name, index) => weights.push([name, Math.max(1.5, 19 * 0.988 ** index)]));
  for (const [name, weight] of VARIANT_SURNAMES) weights.push([name, weight]);
  const listed = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const tail: string[] = [];
  for (const start of TAIL_STARTS) for (const end of TAIL_ENDS) tail.push(`${start}${end}`);
  const share = (listed * 0.8) / tail.length;
  tail.forEach((name, index) => weights.push([name, share * (0.4 + ((index * 7919) % 13) / 10)]));
  return weights;
}

export type Sex = 'male' | 'female';

/** Given names by era of birth: before 1960, 1960 to 1989, 1990 onwards. */
const GIVEN: Record<Sex, [string, string, string]> = {
  male: [
    `John:30 David:25 Michael:22 Peter:18 Robert:17 Anthony:14 Brian:12 Alan:12 William:12 James:12 Kenneth:10
     Ronald:10 Keith:9 Roger:8 Derek:8 George:8 Raymond:8 Colin:8 Geoffrey:7 Barry:7 Terence:7 Dennis:6 Stanley:5
     Arthur:5 Frederick:5 Harold:5 Leslie:5 Albert:4 Eric:4 Thomas:6 Richard:10 Christopher:6 Stephen:6 Mohammed:2`,
    `David:25 Paul:22 Mark:22 Andrew:20 Michael:18 Richard:15 Stephen:15 Christopher:15 James:14 John:13 Robert:12
     Darren:10 Matthew:12 Daniel:10 Lee:8 Jason:8 Simon:9 Gary:8 Neil:8 Ian:8 Craig:6 Stuart:6 Martin:7 Jonathan:6
     Anthony:7 Mohammed:4 Wayne:5 Carl:5 Thomas:6 Adam:5 Ravi:1 Imran:2`,
    `Oliver:18 Jack:20 Harry:16 Thomas:16 James:15 Joshua:15 William:12 Daniel:12 Samuel:11 George:11 Charlie:10
     Jacob:10 Alfie:8 Noah:9 Muhammad:8 Mohammed:5 Ethan:9 Lewis:7 Ryan:8 Liam:7 Callum:6 Connor:6 Joseph:9 Leo:7
     Oscar:7 Archie:6 Henry:7 Max:5 Adam:6 Luke:7 Dylan:5 Kai:3 Arjun:2 Yusuf:2`,
  ],
  female: [
    `Margaret:25 Patricia:16 Mary:18 Susan:14 Elizabeth:13 Jean:12 Barbara:10 Joan:10 Dorothy:9 Christine:12
     Janet:10 Linda:10 Maureen:8 Sheila:8 Pauline:7 Jennifer:8 Valerie:7 Ann:9 Anne:8 Carol:9 Brenda:6 Sandra:8
     Irene:5 Doris:5 Joyce:5 Kathleen:6 Shirley:6 Gillian:6 Eileen:5 Pamela:6 Jane:6`,
    `Sarah:22 Claire:16 Nicola:15 Emma:15 Lisa:14 Joanne:12 Michelle:12 Helen:12 Rachel:11 Karen:10 Julie:10
     Amanda:9 Samantha:9 Louise:10 Jennifer:7 Rebecca:9 Kelly:8 Laura:9 Victoria:8 Catherine:7 Elizabeth:7
     Donna:6 Tracey:6 Deborah:6 Jane:6 Susan:5 Kerry:5 Fatima:2 Priya:2 Anne:3`,
    `Olivia:18 Amelia:17 Emily:16 Isla:10 Ava:12 Jessica:14 Sophie:14 Chloe:13 Lily:11 Grace:11 Ella:10 Mia:10
     Isabella:9 Poppy:8 Charlotte:11 Hannah:11 Lucy:10 Megan:10 Holly:8 Ellie:9 Evie:8 Freya:8 Daisy:7 Aisha:3
     Fatima:2 Zara:3 Maya:4 Ruby:8 Sophia:6 Niamh:4 Amy:8 Anne:1 Jayne:1`,
  ],
};

function parseGiven(list: string): [string, number][] {
  return list
    .split(/\s+/)
    .filter((item) => item.length > 0)
    .map((item) => {
      const [name, weight] = item.split(':');
      return [name ?? '', Number(weight)];
    });
}

export function givenNameWeights(sex: Sex, era: 0 | 1 | 2): [string, number][] {
  return parseGiven(GIVEN[sex][era]);
}

export function eraOf(birthYear: number): 0 | 1 | 2 {
  if (birthYear < 1960) return 0;
  if (birthYear < 1990) return 1;
  return 2;
}
