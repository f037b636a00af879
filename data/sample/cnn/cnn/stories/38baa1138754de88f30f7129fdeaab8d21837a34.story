Riga (Sample News) -- The new garden in Riga opened on Monday after 33 months of work.

Mayor Karin said the garden would serve the whole region

"We waited a long time for this," Karin told reporters.

About 330 people attended the opening ceremony.

@highlight

New garden opens in Riga after 33 months

@highlight

Mayor Karin says it will serve the region
