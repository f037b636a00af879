Quito (Sample News) -- The new harbor in Quito opened on Monday after 36 months of work.

Mayor Karin said the harbor would serve the whole region

"We waited a long time for this," Karin told reporters.

About 360 people attended the opening ceremony.

@highlight

New harbor opens in Quito after 36 months

@highlight

Mayor Karin says it will serve the region
