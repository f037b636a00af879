Perth (Sample News) -- The new library in Perth opened on Monday after 4 months of work.

Mayor Luca said the library would serve the whole region

"We waited a long time for this," Luca told reporters.

About 40 people attended the opening ceremony.

@highlight

New library opens in Perth after 4 months

@highlight

Mayor Luca says it will serve the region
