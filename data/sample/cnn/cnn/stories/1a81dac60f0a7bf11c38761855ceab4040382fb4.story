Riga (Sample News) -- The new station in Riga opened on Monday after 23 months of work.

Mayor Hana said the station would serve the whole region

"We waited a long time for this," Hana told reporters.

About 230 people attended the opening ceremony.

@highlight

New station opens in Riga after 23 months

@highlight

Mayor Hana says it will serve the region
