/**
 * Postcode areas of England and Wales with a post town each, a rough relative population and how many
 * districts to draw from (written for this project; plausible, not an address file). Postcodes are composed
 * as area + district, then sector digit + two unit letters, as Royal Mail formats them.
 */
export interface PostcodeArea {
  area: string;
  town: string;
  county: string;
  weight: number;
  districts: number;
}

const AREAS = `
B Birmingham West-Midlands 60 40
M Manchester Greater-Manchester 45 35
LS Leeds West-Yorkshire 35 29
S Sheffield South-Yorkshire 30 40
L Liverpool Merseyside 30 38
NE Newcastle-upon-Tyne Tyne-and-Wear 30 40
BS Bristol Avon 28 40
NG Nottingham Nottinghamshire 28 25
LE Leicester Leicestershire 25 19
CV Coventry West-Midlands 20 37
ST Stoke-on-Trent Staffordshire 20 21
DN Doncaster South-Yorkshire 18 40
HU Hull East-Yorkshire 14 20
YO York North-Yorkshire 14 25
BD Bradford West-Yorkshire 16 24
HD Huddersfield West-Yorkshire 9 9
WF Wakefield West-Yorkshire 11 17
OL Oldham Lancashire 9 16
BL Bolton Lancashire 9 9
WN Wigan Lancashire 9 8
WA Warrington Cheshire 14 16
CH Chester Cheshire 12 66
SK Stockport Cheshire 14 23
DE Derby Derbyshire 18 75
PE Peterborough Cambridgeshire 22 38
CB Cambridge Cambridgeshire 12 25
IP Ipswich Suffolk 14 33
NR Norwich Norfolk 18 35
CO Colchester Essex 11 16
CM Chelmsford Essex 16 24
SS Southend-on-Sea Essex 13 17
RM Romford Essex 14 20
IG Ilford Essex 10 11
EN Enfield Middlesex 11 11
HA Harrow Middlesex 13 9
UB Southall Middlesex 11 11
TW Twickenham Middlesex 14 20
KT Kingston-upon-Thames Surrey 15 24
SM Sutton Surrey 7 7
CR Croydon Surrey 13 9
BR Bromley Kent 10 8
DA Dartford Kent 13 18
ME Rochester Kent 16 20
CT Canterbury Kent 11 21
TN Tonbridge Kent 16 40
RH Redhill Surrey 16 20
BN Brighton East-Sussex 22 45
GU Guildford Surrey 22 52
RG Reading Berkshire 22 45
SL Slough Berkshire 12 9
HP Hemel-Hempstead Hertfordshire 12 23
OX Oxford Oxfordshire 16 29
MK Milton-Keynes Buckinghamshire 13 19
LU Luton Bedfordshire 11 7
AL St-Albans Hertfordshire 7 10
SG Stevenage Hertfordshire 11 19
WD Watford Hertfordshire 7 25
NN Northampton Northamptonshire 17 18
SO Southampton Hampshire 22 53
PO Portsmouth Hampshire 20 41
BH Bournemouth Dorset 15 31
SP Salisbury Wiltshire 7 11
SN Swindon Wiltshire 14 26
GL Gloucester Gloucestershire 15 56
BA Bath Somerset 9 22
TA Taunton Somerset 9 24
EX Exeter Devon 14 39
TQ Torquay Devon 7 14
PL Plymouth Devon 11 35
TR Truro Cornwall 8 27
DT Dorchester Dorset 6 11
HR Hereford Herefordshire 5 9
WR Worcester Worcestershire 10 15
WV Wolverhampton West-Midlands 13 16
WS Walsall West-Midlands 12 15
DY Dudley West-Midlands 11 14
TF Telford Shropshire 6 13
SY Shrewsbury Shropshire 10 25
LL Llandudno Conwy 12 78
CF Cardiff South-Glamorgan 18 83
NP Newport Gwent 10 26
SA Swansea West-Glamorgan 14 73
LD Llandrindod-Wells Powys 1 8
PR Preston Lancashire 14 26
BB Blackburn Lancashire 10 18
FY Blackpool Lancashire 7 8
LA Lancaster Lancashire 9 23
CA Carlisle Cumbria 8 28
DL Darlington County-Durham 11 17
DH Durham County-Durham 7 9
SR Sunderland Tyne-and-Wear 8 8
TS Middlesbrough Cleveland 15 29
HG Harrogate North-Yorkshire 4 5
LN Lincoln Lincolnshire 10 13
E London Greater-London 25 20
N London Greater-London 18 22
NW London Greater-London 16 11
SE London Greater-London 28 28
SW London Greater-London 26 20
W London Greater-London 16 14
EC London Greater-London 2 4
WC London Greater-London 2 2`;

export const POSTCODE_AREAS: PostcodeArea[] = AREAS.trim()
  .split('\n')
  .map((line) => {
    const [area, town, county, weight, districts] = line.trim().split(/\s+/);
    return {
      area: area ?? '',
      town: (town ?? '').replace(/-/g, ' '),
      county: (county ?? '').replace(/-/g, ' '),
      weight: Number(weight),
      districts: Number(districts),
    };
  });

/** The letters Royal Mail uses for the last two characters of a postcode (no C, I, K, M, O or V). */
export const UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export const STREET_NAMES = `Church High Station Park Victoria Green Manor Mill School Queens Kings Grange Albert
  Chapel Springfield New London Windsor York Mount Alexandra Richmond Highfield Orchard Stanley Princes Clarence
  Meadow Oak Elm Ash Beech Willow Cedar Hawthorn Rose Holly Hillside Westfield Northfield Southfield Eastfield
  Brook River Bridge Castle Abbey Priory Market Cross Water Forest Heath Moor Valley Hall Cemetery Nelson
  Wellington Marlborough Cromwell Shakespeare Milton Tennyson Byron Chaucer`
  .split(/\s+/)
  .filter((name) => name.length > 0);

export const STREET_TYPES = [
  'Road',
  'Street',
  'Lane',
  'Avenue',
  'Close',
  'Drive',
  'Way',
  'Crescent',
  'Gardens',
  'Grove',
];
