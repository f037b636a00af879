Perth (Sample News) -- The new garden in Perth opened on Monday after 38 months of work.

Mayor Jun said the garden would serve the whole region

"We waited a long time for this," Jun told reporters.

About 380 people attended the opening ceremony.

@highlight

New garden opens in Perth after 38 months

@highlight

Mayor Jun says it will serve the region
